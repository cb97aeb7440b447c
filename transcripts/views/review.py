"""The principal's review queue and the signing confirmation (shared with homeroom teachers).

The queue lists the school year's transcripts (filter by class, state, problems), each with a
preview, its history and what changed since the last version; rows are selected for signing.
Signing always goes through the confirmation page: the certificate password(s) and a fresh
two-factor code, then a background job with a progress bar.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any, TypedDict, cast

import django_tables2 as tables
from django import forms
from django.db import transaction
from django.db.models import Count, OuterRef, Q, QuerySet, Subquery
from django.http import Http404, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_POST, require_safe
from django_tables2 import RequestConfig

from accounts.http import AuthenticatedRequest
from schools.access import LEADERSHIP_ROLES, SchoolAccess, get_school
from schools.choices import ClassChoiceField
from schools.models import ClassGroup, Enrollment, SchoolYear
from transcripts import jobs
from transcripts.background import JobRefused
from transcripts.forms import SignForm
from transcripts.models import JobStep, State, Transcript, TranscriptJob
from transcripts.workflow import TRANSITIONS

if TYPE_CHECKING:
    from django_stubs_ext import WithAnnotations

#: The step combinations offered on the screens.
STEP_SETS: dict[str, list[str]] = {
    "homeroom": [JobStep.HOMEROOM],
    "principal": [JobStep.PRINCIPAL],
    "principal_seal": [JobStep.PRINCIPAL, JobStep.SEAL],
    "seal": [JobStep.SEAL],
}

STATE_BADGES: dict[str, str] = {
    State.DRAFT: "text-bg-secondary",
    State.READY: "text-bg-info",
    State.SIGNED_HOMEROOM: "text-bg-primary",
    State.SIGNED_PRINCIPAL: "text-bg-warning",
    State.FINAL: "text-bg-success",
}


def state_badge(transcript: Transcript) -> str:
    return format_html(
        '<span class="badge {}">{}</span>',
        STATE_BADGES[transcript.state],
        transcript.get_state_display(),
    )


def eligible(transcripts: QuerySet[Transcript], steps: list[str]) -> QuerySet[Transcript]:
    """The transcripts a job with ``steps`` can act on: any state one of the steps starts from
    (e.g. "sign and seal" takes homeroom-signed and principal-signed ones)."""
    states = set().union(*(TRANSITIONS[step][0] for step in steps))
    return transcripts.filter(state__in=states)


class QueueFilter(forms.Form):
    class_group = ClassChoiceField(
        queryset=ClassGroup.objects.none(),
        required=False,
        label=gettext_lazy("Class"),
        empty_label=gettext_lazy("All classes"),
    )
    state = forms.ChoiceField(required=False, label=gettext_lazy("State"))
    problems = forms.BooleanField(required=False, label=gettext_lazy("Only with problems"))

    def __init__(self, *args: Any, year: SchoolYear, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        cast(
            forms.ModelChoiceField, self.fields["class_group"]
        ).queryset = ClassGroup.objects.filter(year=year).order_by("grade", "name")
        cast(forms.ChoiceField, self.fields["state"]).choices = [
            ("", _("All states")),
            *State.choices,
        ]

    def apply(self, rows: QuerySet[Transcript]) -> QuerySet[Transcript]:
        if not self.is_valid():
            return rows
        data = self.cleaned_data
        if data["class_group"]:
            rows = rows.filter(class_group=data["class_group"])
        if data["state"]:
            rows = rows.filter(state=data["state"])
        if data["problems"]:
            rows = rows.filter(problem_q())
        return rows


def problem_q() -> Q:
    """Transcripts that need attention: returned to the homeroom teacher, or reopened and not
    yet confirmed again."""
    return Q(state=State.DRAFT) & (~Q(returned_comment="") | ~Q(reopened_reason=""))


class VersionCount(TypedDict):
    version_count: int


SELECT = """<input class="form-check-input" type="checkbox" name="ids" value="{{ record.pk }}"
 form="sign-form" aria-label="{{ record.student.full_name }}">"""

ROW_ACTIONS = """{% load i18n %}<div class="d-flex gap-1 text-nowrap">
<a class="btn btn-sm btn-outline-secondary" target="_blank" rel="noopener"
   href="{% url 'hocba:preview' access.school.code record.pk %}"><i class="bi bi-eye"></i>
   {% translate "Preview" %}</a>
<a class="btn btn-sm btn-outline-primary"
   href="{% url 'hocba:detail' access.school.code record.pk %}">
  <i class="bi bi-clock-history"></i> {% translate "History" %}</a></div>"""


class QueueTable(tables.Table):
    select = tables.TemplateColumn(SELECT, verbose_name="", orderable=False)
    class_group = tables.Column(gettext_lazy("Class"), order_by=("class_group__name",))
    roll_number = tables.Column(gettext_lazy("No."), attrs={"td": {"class": "text-end"}})
    student = tables.Column(gettext_lazy("Student"), order_by=("student__full_name",))
    state = tables.Column(gettext_lazy("State"))
    version = tables.Column(gettext_lazy("Version"), empty_values=(), orderable=False)
    problems = tables.Column(gettext_lazy("Problems"), empty_values=(), orderable=False)
    actions = tables.TemplateColumn(ROW_ACTIONS, verbose_name="", orderable=False)

    class Meta:
        model = Transcript
        fields = [
            "select", "class_group", "roll_number", "student", "state", "version", "problems",
            "actions",
        ]  # fmt: skip
        attrs = {"id": "queue-table", "class": "table table-sm table-hover align-middle"}
        empty_text = gettext_lazy(
            "No transcripts here yet: they appear as homeroom teachers confirm their classes."
        )

    def render_class_group(self, record: Transcript) -> str:
        return record.class_group.name

    def render_student(self, record: Transcript) -> str:
        return record.student.full_name

    def render_state(self, record: Transcript) -> str:
        return state_badge(record)

    def render_version(self, record: WithAnnotations[Transcript, VersionCount]) -> str:
        if not record.version_count:
            return "—"
        return format_html(
            "v{}{}",
            record.version_count,
            format_html(' <span class="badge text-bg-light border">{}</span>', _("changed"))
            if record.version_count > 1 and record.state != State.FINAL
            else "",
        )

    def render_problems(self, record: Transcript) -> str:
        if record.state != State.DRAFT:
            return ""
        if record.returned_comment:
            return format_html(
                '<span class="text-danger"><i class="bi bi-reply"></i> {}: {}</span>',
                _("Returned"),
                record.returned_comment,
            )
        if record.reopened_reason:
            return format_html(
                '<span class="text-warning-emphasis"><i class="bi bi-unlock"></i> {}: {}</span>',
                _("Reopened"),
                record.reopened_reason,
            )
        return ""


def _leader(request: AuthenticatedRequest, code: str) -> SchoolAccess:
    return get_school(request, code, roles=LEADERSHIP_ROLES)


def step_sets_for(access: SchoolAccess) -> dict[str, list[str]]:
    """The signing buttons this leader gets: a vice principal signs; the principal also seals."""
    offered = {"principal": STEP_SETS["principal"]}
    if access.is_principal:
        offered["principal_seal"] = STEP_SETS["principal_seal"]
        offered["seal"] = STEP_SETS["seal"]
    return offered


@require_safe
def queue(request: AuthenticatedRequest, code: str) -> HttpResponse:
    access = _leader(request, code)
    year = access.year_or_404()
    everything = Transcript.objects.filter(school=access.school, year=year)
    counted = everything.select_related("student", "class_group").annotate(
        version_count=Count("versions")
    )
    filter_form = QueueFilter(request.GET or None, year=year)
    roll = Enrollment.objects.filter(
        student=OuterRef("student"), class_group=OuterRef("class_group")
    ).values("roll_number")[:1]
    rows = (
        filter_form.apply(counted)
        .annotate(roll_number=Subquery(roll))
        .order_by("class_group__grade", "class_group__name", "roll_number", "pk")
    )
    table = QueueTable(rows)
    RequestConfig(request, paginate={"per_page": 100}).configure(table)
    counts = dict(everything.values_list("state").annotate(n=Count("pk")).order_by())
    classes = (
        ClassGroup.objects.filter(year=year)
        .annotate(
            students=Count("enrollments", filter=Q(enrollments__left_on__isnull=True)),
            **{
                f"n_{state}": Count("transcripts", filter=Q(transcripts__state=state))
                for state in State.values
            },
        )
        .order_by("grade", "name")
    )
    recent_jobs = TranscriptJob.objects.filter(school=access.school, year=year).select_related(
        "created_by", "class_group"
    )[:5]
    return render(
        request,
        "transcripts/queue.html",
        {
            "access": access,
            "year": year,
            "table": table,
            "filter_form": filter_form,
            "states": [(value, label, counts.get(value, 0)) for value, label in State.choices],
            "classes": classes,
            "step_sets": step_sets_for(access),
            "recent_jobs": recent_jobs,
            "query": request.GET.urlencode(),
        },
    )


def _selection(
    request: AuthenticatedRequest, access: SchoolAccess, year: SchoolYear
) -> QuerySet[Transcript]:
    """The POSTed transcripts (ids), or every transcript matching the POSTed filter (all=1)."""
    base = Transcript.objects.filter(school=access.school, year=year)
    if request.POST.get("all"):
        return QueueFilter(request.POST, year=year).apply(base)
    ids = [int(i) for i in request.POST.getlist("ids") if i.isdigit()]
    return base.filter(pk__in=ids)


@require_POST
def sign(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Confirm and start a leadership signing job over the selected transcripts."""
    access = _leader(request, code)
    year = access.year_or_404()
    offered = step_sets_for(access)
    steps = offered.get(request.POST.get("steps", ""))
    if steps is None:
        raise Http404
    selected = _selection(request, access, year)
    chosen = eligible(selected, steps)
    return confirm_and_start(
        request,
        access,
        year=year,
        steps=steps,
        steps_key=request.POST["steps"],
        selected_count=selected.count(),
        transcripts=chosen,
        action=reverse("hocba:sign", args=[access.school.code]),
        back=reverse("hocba:queue", args=[access.school.code]),
    )


def confirm_and_start(
    request: AuthenticatedRequest,
    access: SchoolAccess,
    *,
    year: SchoolYear,
    steps: list[str],
    steps_key: str,
    selected_count: int,
    transcripts: QuerySet[Transcript],
    action: str,
    back: str,
    class_group: ClassGroup | None = None,
    retry_of: TranscriptJob | None = None,
    start_now: bool = False,
    resume: TranscriptJob | None = None,
) -> HttpResponse:
    """The confirmation page (first POST) and the start of the job (POST with confirm=1, or at
    once with ``start_now`` for a job that signs nothing); with ``resume``, the same for an
    interrupted job's new run (the secrets of the steps it has left, checked again)."""
    chosen = list(transcripts.select_related("student", "class_group").order_by("pk"))
    submitted = bool(request.POST.get("confirm")) or start_now
    form = SignForm(
        request.POST if submitted else None, user=request.user, steps=steps, school=access.school
    )
    if submitted and form.is_valid() and chosen:
        try:
            # The passwords open the certificates first; the two-factor code is spent only then,
            # and the job is recorded only with it (transcripts.forms.FreshCodeMixin).
            with transaction.atomic():
                if resume is not None:
                    job = jobs.resume_job(actor=request.user, job=resume, secrets=form.secrets())
                else:
                    job = jobs.start_job(
                        actor=request.user,
                        school=access.school,
                        year=year,
                        transcripts=chosen,
                        steps=steps,
                        secrets=form.secrets(),
                        class_group=class_group,
                        retry_of=retry_of,
                    )
                spent = form.spend_code()
                transaction.set_rollback(not spent)
        except JobRefused as exc:
            form.add_error(None, exc.message)
        else:
            if spent:
                return redirect("hocba:job", access.school.code, job.pk)
    per_class: dict[str, int] = {}
    for transcript in chosen:
        per_class[transcript.class_group.name] = per_class.get(transcript.class_group.name, 0) + 1
    return render(
        request,
        "transcripts/sign_confirm.html",
        {
            "access": access,
            "year": year,
            "form": form,
            "steps": [JobStep(step).label for step in steps],
            "steps_key": steps_key,
            "transcripts": chosen,
            "per_class": sorted(per_class.items()),
            "left_out": selected_count - len(chosen),
            "action": action,
            "back": back,
            "retry_of": retry_of or resume,
        },
    )
