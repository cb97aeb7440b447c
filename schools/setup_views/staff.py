"""Set-up pages: teachers and other staff."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Prefetch, QuerySet
from django.http import HttpResponse
from django.shortcuts import redirect
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from accounts.models import Membership, User
from schools import forms, setup_services, tables
from schools.access import SchoolAccess, get_school_object
from schools.setup_views._common import (
    GET_POST,
    _access,
    _data,
    _form_page,
    _page,
    _saved,
    _table,
    _url,
)

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

# Teachers and other staff --------------------------------------------------------------------


def _staff(access: SchoolAccess) -> QuerySet[WithAnnotations[User, tables.StaffRow]]:
    """Everyone who holds or held a role in the school, with those memberships attached."""
    here = Membership.objects.filter(school=access.school)
    return (
        User.objects.filter(memberships__school=access.school)
        .distinct()
        .prefetch_related(Prefetch("memberships", queryset=here, to_attr="school_memberships"))
    )


@require_safe
def teachers(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    filters = forms.StaffFilterForm(request.GET)
    rows = filters.apply(_staff(access), school=access.school)
    table = _table(request, tables.StaffTable(rows, school_code=code))
    return _page(request, "teachers.html", access, "teachers", table=table, filter_form=filters)


@GET_POST
def teacher_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.StaffCreateForm(_data(request))

    def save() -> str:
        details = {k: v for k, v in form.cleaned_data.items() if k != "password_again"}
        user = setup_services.create_staff_account(school=access.school, **details)
        if details["password"]:
            message = _("Account %(username)s created with the initial password.")
        else:
            setup_services.send_password_setup_email(request=request, user=user)
            message = _("Account %(username)s created; a password link was emailed to them.")
        return message % {"username": user.username}

    if _saved(request, form, save):
        return redirect("schools:setup_teachers", code=code)
    intro = _(
        "Someone who already has an account (in another school) keeps it: add it by "
        "username instead."
    )
    existing = (_url("setup_teacher_add_existing", code), _("Add an existing account"))
    back_url = _url("setup_teachers", code)
    title = _("New staff account")
    return _form_page(
        request, access, "teachers", form, title, back_url, intro=intro, intro_link=existing
    )


@GET_POST
def teacher_add_existing(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    form = forms.StaffAddExistingForm(_data(request))

    def save() -> str:
        user = setup_services.add_existing_staff(
            school=access.school, inviter=request.user, **form.cleaned_data
        )
        if user is not None:  # already one of this school's staff, past or present
            return _("%(name)s now works in this school.") % {"name": user.display_name}
        # The same words whether an invitation went out or no such account exists.
        return _(
            "If an active account has this username, an invitation to work in this school has "
            "been sent to it. The person joins the staff when they accept it."
        )

    if _saved(request, form, save):
        return redirect("schools:setup_teachers", code=code)
    title = _("Add an existing account")
    intro = _(
        "An account this school did not create belongs to its owner: it is invited, and joins "
        "the staff only when its owner accepts, after logging in. Until then this page shows "
        "nothing about it, not even whether it exists. Someone who has worked in this school "
        "before gets the roles at once."
    )
    back_url = _url("setup_teachers", code)
    return _form_page(request, access, "teachers", form, title, back_url, intro=intro)


def _staff_member(access: SchoolAccess, pk: int) -> WithAnnotations[User, tables.StaffRow]:
    return get_school_object(access, _staff(access), pk, school_path="memberships__school")


@GET_POST
def teacher_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    member = _staff_member(access, pk)
    roles = [m.role for m in member.school_memberships if m.is_active]
    shared = setup_services.is_shared_account(school=access.school, user=member)
    form = forms.StaffEditForm(_data(request), user=member, roles=roles, shared=shared)

    def save() -> str:
        setup_services.update_staff_member(
            school=access.school, user=member, actor=request.user, **form.cleaned_data
        )
        return _("%(name)s saved.") % {"name": member.display_name}

    if _saved(request, form, save):
        return redirect("schools:setup_teachers", code=code)
    title = f"{member.display_name} ({member.username})"
    context = {"member": member, "is_active_here": bool(roles), "shared": shared}
    context["is_self"] = member.pk == request.user.pk
    back_url = _url("setup_teachers", code)
    return _form_page(
        request, access, "teachers", form, title, back_url, "teacher_form.html", **context
    )


@require_POST
def teacher_deactivate(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    member = _staff_member(access, pk)
    try:
        setup_services.deactivate_staff_member(
            school=access.school, user=member, actor=request.user
        )
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("schools:setup_teacher_edit", code=code, pk=member.pk)
    message = _("%(name)s no longer works in this school.")
    messages.success(request, message % {"name": member.display_name})
    return redirect("schools:setup_teachers", code=code)
