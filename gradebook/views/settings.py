"""The school admin's gradebook settings (comment length, the regulation's named
interpretations) and the comment bank. SETUP_ROLES only; another school's phrase is a 404."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, TypedDict, cast

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import BaseForm
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from accounts.http import AuthenticatedRequest
from gradebook.forms_settings import (
    CommentPhraseForm,
    GradebookSettingsForm,
    PhraseFilterForm,
    level_names,
)
from gradebook.models import CommentPhrase
from gradebook.services import settings_for
from gradebook.settings_services import (
    delete_comment_phrase,
    save_comment_phrase,
    save_gradebook_settings,
)
from schools.access import SETUP_ROLES, SchoolAccess, get_school, get_school_object

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

GET_POST = require_http_methods(["GET", "HEAD", "POST"])
SECTION = "gradebook"  # highlights the set-up menu's entry


def _access(request: AuthenticatedRequest, code: str) -> SchoolAccess:
    return get_school(request, code, roles=SETUP_ROLES)


class _Listed(TypedDict):
    level_name: str  # the label of the phrase's level, set for the comment bank's table


def _saved(form: BaseForm, save: Callable[[], None]) -> bool:
    """Run `save` if the form is valid; a ValidationError from it lands on the form."""
    if not form.is_valid():
        return False
    try:
        save()
    except ValidationError as error:
        if hasattr(error, "error_dict"):
            for name, errors in error.error_dict.items():
                form.add_error(name if name in form.fields else None, errors)
        else:
            form.add_error(None, error)
        return False
    return True


@GET_POST
def gradebook_settings(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    current = settings_for(access.school.pk)
    data = request.POST if request.method == "POST" else None
    form = GradebookSettingsForm(data, instance=current)

    def save() -> None:
        save_gradebook_settings(school=access.school, **form.cleaned_data)

    if _saved(form, save):
        messages.success(request, _("Gradebook settings saved."))
        return redirect("gradebook:settings", code=code)
    context = {"access": access, "section": SECTION, "form": form}
    return render(request, "gradebook/settings.html", context)


@require_safe
def comment_bank(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    filters = PhraseFilterForm(request.GET or None, school=access.school)
    phrases = CommentPhrase.objects.filter(school=access.school).select_related("subject")
    if filters.is_valid() and filters.cleaned_data["subject"]:
        phrases = phrases.filter(subject=filters.cleaned_data["subject"])
    listed = cast(
        "list[WithAnnotations[CommentPhrase, _Listed]]",
        list(phrases.order_by("subject__order", "subject__code", "level", "text")),
    )
    names = level_names(access.school)
    for phrase in listed:
        phrase.level_name = names.get(phrase.level, phrase.level)
    context = {"access": access, "section": SECTION, "filters": filters, "phrases": listed}
    return render(request, "gradebook/comment_bank.html", context)


def _phrase_page(
    request: AuthenticatedRequest, access: SchoolAccess, form: BaseForm, title: str
) -> HttpResponse:
    context = {
        "access": access,
        "section": SECTION,
        "form": form,
        "title": title,
        "back_url": reverse("gradebook:comment_bank", args=[access.school.code]),
    }
    return render(request, "gradebook/comment_bank_form.html", context)


@GET_POST
def comment_phrase_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    data = request.POST if request.method == "POST" else None
    form = CommentPhraseForm(data, school=access.school)

    def save() -> None:
        save_comment_phrase(school=access.school, **form.cleaned_data)

    if _saved(form, save):
        messages.success(request, _("Phrase added to the comment bank."))
        return redirect("gradebook:comment_bank", code=code)
    return _phrase_page(request, access, form, _("New phrase"))


def _phrase(access: SchoolAccess, pk: int) -> CommentPhrase:
    return get_school_object(access, CommentPhrase.objects.all(), pk, school_path="school")


@GET_POST
def comment_phrase_edit(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    phrase = _phrase(access, pk)
    data = request.POST if request.method == "POST" else None
    form = CommentPhraseForm(data, instance=phrase, school=access.school)

    def save() -> None:
        save_comment_phrase(school=access.school, phrase=phrase, **form.cleaned_data)

    if _saved(form, save):
        messages.success(request, _("Phrase saved."))
        return redirect("gradebook:comment_bank", code=code)
    return _phrase_page(request, access, form, _("Edit phrase"))


@GET_POST
def comment_phrase_delete(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    access = _access(request, code)
    phrase = _phrase(access, pk)
    if request.method == "POST":
        delete_comment_phrase(school=access.school, phrase=phrase)
        messages.success(request, _("Phrase removed from the comment bank."))
        return redirect("gradebook:comment_bank", code=code)
    context = {
        "access": access,
        "section": SECTION,
        "phrase": phrase,
        "back_url": reverse("gradebook:comment_bank", args=[code]),
    }
    return render(request, "gradebook/comment_bank_delete.html", context)
