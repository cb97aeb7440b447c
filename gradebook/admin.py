from django.contrib import admin

from gradebook.models import CommentPhrase, GradebookSettings, Lock


@admin.register(Lock)
class LockAdmin(admin.ModelAdmin):
    list_display = ("school", "kind", "term", "class_group", "subject", "starts_at", "released_at")


admin.site.register(GradebookSettings)
admin.site.register(CommentPhrase)
# Marks and ledger events are deliberately absent: they change only through gradebook.services.
