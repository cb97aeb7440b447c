"""The subject-choice screen of a class of grades 10-12: its homeroom teacher or the school's
admin ticks, for each student, the four electives and the three subjects whose learning-topic
clusters they take (docs/curriculum.md#subject-choices-in-grades-10-to-12)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods

from accounts.http import AuthenticatedRequest
from schools.access import get_class_group, get_school
from schools.programme import ELECTIVE_COUNT, TOPIC_COUNT, is_upper_secondary
from schools.subject_choices import (
    ChoiceError,
    choice_subjects,
    class_choices,
    set_class_choices,
)


@require_http_methods(["GET", "HEAD", "POST"])
def class_subject_choices(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The table students × electives and clusters; saved whole or refused with each row's
    broken rule. 404 for a class outside grades 10-12."""
    access = get_school(request, code)
    class_group = get_class_group(access, pk)
    if class_group.homeroom_teacher_id != access.user.pk and not access.can_setup:
        raise PermissionDenied
    if not is_upper_secondary(class_group.grade):
        raise Http404
    subjects = choice_subjects(class_group.year, class_group.grade)
    people = list(
        class_group.enrollments.filter(left_on__isnull=True)
        .select_related("student")
        .order_by("roll_number", "student__pk")
    )
    errors: dict[int, list[str]] = {}
    if request.method == "POST":
        chosen = {
            e.student_id: (
                set(request.POST.getlist(f"elective-{e.student_id}")),
                set(request.POST.getlist(f"topics-{e.student_id}")),
            )
            for e in people
        }
        try:
            saved = set_class_choices(class_group=class_group, choices=chosen)
        except ChoiceError as error:
            errors = error.errors
            messages.error(request, _("Nothing was saved: correct the rows marked below."))
        else:
            messages.success(
                request, _("Subject choices saved for %(count)s students.") % {"count": saved}
            )
            return redirect("schools:class_subject_choices", code=code, pk=pk)
    else:
        chosen = {k: (v[0], v[1]) for k, v in class_choices(class_group).items()}
    rows = [
        {
            "enrollment": e,
            "electives": chosen.get(e.student_id, (set(), set()))[0],
            "topics": chosen.get(e.student_id, (set(), set()))[1],
            "errors": errors.get(e.student_id, []),
        }
        for e in people
    ]
    context = {
        "access": access,
        "class_group": class_group,
        "subjects": subjects,
        "rows": rows,
        "general_errors": errors.get(0, []),
        "elective_count": ELECTIVE_COUNT,
        "topic_count": TOPIC_COUNT,
    }
    return render(request, "schools/class_subject_choices.html", context)
