"""Signals the gradebook sends. Later apps subscribe; the gradebook imports none of them."""

from django.dispatch import Signal

#: Sent by `gradebook.services.save_mark` inside its transaction, after validation and before
#: anything is written, with `student`, `year_id`, `column` and `actor`. A receiver refuses the
#: change by raising `gradebook.services.GradebookError` (e.g. a final transcript: Locked).
mark_changing = Signal()
