from allauth.mfa import admin as mfa_admin
from allauth.mfa.models import Authenticator
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.admin_site import ReadOnlyModelAdmin
from accounts.models import Membership, User


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["school"]


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    fieldsets = (*(BaseUserAdmin.fieldsets or ()), ("Sổ điểm", {"fields": ("full_name", "phone")}))
    list_display = ("username", "full_name", "email", "is_active", "is_staff")
    search_fields = ("username", "full_name", "email")
    inlines = [MembershipInline]


# allauth registers its own (imported above, so first), which can delete a person's TOTP; here it is
# read-only and its secret is not shown. A person manages their authenticators on the MFA pages.
admin.site.unregister(Authenticator)


@admin.register(Authenticator)
class AuthenticatorAdmin(ReadOnlyModelAdmin):
    list_display = mfa_admin.AuthenticatorAdmin.list_display
    list_filter = mfa_admin.AuthenticatorAdmin.list_filter
    fields = ("user", "type", "created_at", "last_used_at")
