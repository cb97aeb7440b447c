from django.contrib import admin

from gradebook.models import CommentPhrase, GradebookSettings, Lock


@admin.register(Lock)
class LockAdmin(admin.ModelAdmin):
    """Read-only: locks are set and released (with a reason) on the product's locks page."""

    list_display = ("school", "kind", "term", "class_group", "subject", "starts_at", "released_at")

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False

    def has_delete_permission(self, request, obj=None) -> bool:
        return False


admin.site.register(GradebookSettings)
admin.site.register(CommentPhrase)
# Marks and ledger events are deliberately absent: they change only through gradebook.services.
