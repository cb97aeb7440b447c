"""Submitting a gradebook, and the leadership's locks page: lock, unlock, lock dates."""

from __future__ import annotations

import datetime

import django_tables2 as tables
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django_tables2 import RequestConfig

from accounts.http import AuthenticatedRequest
from gradebook import locks
from gradebook.forms import LockDateForm, LockForm, UnlockForm
from gradebook.models import Lock, LockKind
from gradebook.services import GradebookError
from schools.access import (
    LEADERSHIP_ROLES,
    SchoolAccess,
    get_school,
    get_school_object,
    get_subject_gradebook,
)

UNLOCK_BUTTON = """{% load i18n %}{% if not record.released_at %}
<form method="post" action="{% url 'gradebook:unlock' access.school.code record.pk %}"
      class="d-flex gap-1">{% csrf_token %}
  <input class="form-control form-control-sm" name="reason" required
         placeholder="{% translate 'Reason for unlocking' %}"
         aria-label="{% translate 'Reason for unlocking' %}">
  <button class="btn btn-sm btn-outline-danger text-nowrap" type="submit">
    {% if record.kind == 'submitted' %}{% translate "Reopen" %}
    {% else %}{% translate "Unlock" %}{% endif %}
  </button>
</form>{% endif %}"""


def safe_next(request: HttpRequest, fallback: str) -> str:
    """The POSTed `next` URL when it points into this site, else `fallback`."""
    target = request.POST.get("next", "")
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


def _when(moment: datetime.datetime | None) -> str:
    return date_format(moment, "SHORT_DATETIME_FORMAT") if moment else ""


class LockTable(tables.Table):
    scope = tables.Column(gettext_lazy("Covers"), empty_values=(), orderable=False)
    kind = tables.Column(gettext_lazy("Kind"))
    reason = tables.Column(gettext_lazy("Reason"), default="")
    starts_at = tables.DateTimeColumn(verbose_name=gettext_lazy("From"), short=True)
    created_by = tables.Column(gettext_lazy("By"), order_by=("created_by__full_name",))
    state = tables.Column(gettext_lazy("State"), empty_values=(), orderable=False)
    actions = tables.TemplateColumn(UNLOCK_BUTTON, verbose_name="", orderable=False)

    class Meta:
        model = Lock
        fields = ["scope", "kind", "reason", "starts_at", "created_by", "state"]
        attrs = {"id": "locks-table", "class": "table table-sm table-hover align-middle"}

    def render_scope(self, record: Lock) -> str:
        return locks.lock_scope(record)

    def render_created_by(self, record: Lock) -> str:
        return record.created_by.display_name

    def render_state(self, record: Lock) -> str:
        if record.released_at:
            assert record.released_by is not None  # released together (gradebook.locks)
            return format_html(
                '<span class="badge text-bg-secondary">{}</span> <small>{}</small>',
                _("Released by %(name)s, %(when)s")
                % {"name": record.released_by.display_name, "when": _when(record.released_at)},
                record.release_reason,
            )
        if record.starts_at > timezone.now():
            return format_html('<span class="badge text-bg-info">{}</span>', _("Scheduled"))
        return format_html('<span class="badge text-bg-danger">{}</span>', _("In force"))


def _access(request: AuthenticatedRequest, code: str) -> SchoolAccess:
    return get_school(request, code, roles=LEADERSHIP_ROLES)


def _locks_page(
    request: AuthenticatedRequest,
    access: SchoolAccess,
    *,
    lock_form: LockForm | None = None,
    date_form: LockDateForm | None = None,
) -> HttpResponse:
    year = access.year
    context: dict = {"access": access, "year": year}
    if year is not None:
        rows = (
            Lock.objects.filter(year=year)
            .select_related("class_group", "subject", "created_by", "released_by")
            .order_by("-created_at")
        )
        table = LockTable(rows)
        RequestConfig(request, paginate={"per_page": 50}).configure(table)
        school_wide = (
            Lock.objects.filter(
                year=year,
                class_group__isnull=True,
                subject__isnull=True,
                kind=LockKind.LOCKED,
                released_at__isnull=True,
            )
            .select_related("created_by")
            .order_by("term", "starts_at")
        )
        context.update(
            table=table,
            school_wide=school_wide,
            now=timezone.now(),
            lock_form=lock_form or LockForm(year=year),
            date_form=date_form or LockDateForm(),
        )
    return render(request, "gradebook/locks.html", context)


@require_safe
def lock_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The leadership's list of locks of the current year, with forms to lock and set dates."""
    return _locks_page(request, _access(request, code))


@require_POST
def lock_create(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = access.year_or_404()
    form = LockForm(request.POST, year=year)
    if form.is_valid():
        data = form.cleaned_data
        try:
            new = locks.lock(
                actor=request.user,
                school=access.school,
                year=year,
                term=data["term"],
                class_group=data["class_group"],
                subject=data["subject"],
                reason=data["reason"],
            )
        except GradebookError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("Locked: %(scope)s.") % {"scope": locks.lock_scope(new)})
            return redirect("gradebook:locks", code=code)
    return _locks_page(request, access, lock_form=form)


@require_POST
def lock_date(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _access(request, code)
    year = access.year_or_404()
    form = LockDateForm(request.POST)
    if form.is_valid():
        data = form.cleaned_data
        try:
            locks.set_lock_date(
                actor=request.user,
                school=access.school,
                year=year,
                term=data["term"],
                date=data["date"],
                reason=data["reason"],
            )
        except GradebookError as error:
            form.add_error(None, error.message)
        else:
            message = _("Every gradebook of %(term)s locks on %(date)s.") % {
                "term": locks.term_name(data["term"]),
                "date": date_format(data["date"], "SHORT_DATE_FORMAT"),
            }
            messages.success(request, message)
            return redirect("gradebook:locks", code=code)
    return _locks_page(request, access, date_form=form)


@require_POST
def unlock(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """Release a lock (or reopen a submitted gradebook) with a reason; back to `next`."""
    access = _access(request, code)
    lock = get_school_object(access, Lock.objects.all(), pk, school_path="school")
    form = UnlockForm(request.POST)
    try:
        if not form.is_valid():
            raise GradebookError(_("Give the reason for unlocking."))
        locks.unlock(actor=request.user, lock=lock, reason=form.cleaned_data["reason"])
    except GradebookError as error:
        messages.error(request, error.message)
    else:
        messages.success(request, _("Unlocked: %(scope)s.") % {"scope": locks.lock_scope(lock)})
    return redirect(safe_next(request, reverse("gradebook:locks", args=[code])))


@require_POST
def submit(
    request: AuthenticatedRequest, code: str, class_pk: int, subject_pk: int, term: int
) -> HttpResponse:
    """The assigned teacher submits a complete term gradebook; back to `next` (the grid)."""
    access = get_school(request, code)
    book = get_subject_gradebook(access, class_pk, subject_pk, write=True)
    class_group, entry = book.class_group, book.entry
    if term not in (1, 2):
        raise Http404
    try:
        locks.submit_gradebook(actor=request.user, class_group=class_group, entry=entry, term=term)
    except GradebookError as error:
        messages.error(request, error.message)
    else:
        message = _("%(subject)s of class %(class)s, %(term)s, is submitted and locked.") % {
            "subject": entry.subject.name,
            "class": class_group.name,
            "term": locks.term_name(term),
        }
        messages.success(request, message)
    return redirect(safe_next(request, reverse("schools:dashboard", args=[code])))
