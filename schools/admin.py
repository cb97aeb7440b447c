"""Django admin is for platform operators (superusers) only; school staff use the product's own
set-up pages, which go through the access getters."""

from django.contrib import admin

from accounts.admin_site import ReadOnlyModelAdmin
from schools.models import (
    ClassGroup,
    CurriculumEntry,
    Department,
    DepartmentMembership,
    Enrollment,
    Invitation,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
    Term,
)


@admin.register(School)
class SchoolAdmin(admin.ModelAdmin):
    list_display = ("name", "code", "department_code", "district", "level")
    search_fields = ("name", "code")


class DepartmentMembershipInline(admin.TabularInline):
    model = DepartmentMembership
    extra = 0
    raw_id_fields = ("user",)


@admin.register(Department)
class DepartmentAdmin(admin.ModelAdmin):
    """The Departments and their members: the operators create them (docs/department.md)."""

    list_display = ("name", "code", "province")
    search_fields = ("name", "code")
    inlines = [DepartmentMembershipInline]


class TermInline(admin.TabularInline):
    model = Term
    extra = 0


@admin.register(SchoolYear)
class SchoolYearAdmin(admin.ModelAdmin):
    list_display = ("school", "name", "is_current")
    list_filter = ("is_current",)
    inlines = [TermInline]


@admin.register(ClassGroup)
class ClassGroupAdmin(admin.ModelAdmin):
    list_display = ("name", "grade", "year", "homeroom_teacher")
    list_filter = ("grade",)
    search_fields = ("name",)


@admin.register(Student)
class StudentAdmin(admin.ModelAdmin):
    list_display = ("full_name", "student_code", "date_of_birth", "school")
    search_fields = ("full_name", "student_code", "personal_id")


admin.site.register(Subject)
admin.site.register(CurriculumEntry)
admin.site.register(Enrollment)
admin.site.register(TeachingAssignment)


@admin.register(Invitation)
class InvitationAdmin(ReadOnlyModelAdmin):
    """Shown only: an invitation is the person's to answer, on their own page."""

    list_display = ("school", "invited_user", "roles", "created_at", "expires_at", "accepted_at")
    list_filter = ("school",)
