"""Exemptions (miễn học): the homeroom teacher or the admin asks from the class page, the
principal approves or rejects from the list (docs/gradebook.md#exemptions)."""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Case, IntegerField, Q, Value, When
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from accounts.http import AuthenticatedRequest
from gradebook.exemptions import decide_exemption, request_exemption, withdraw_exemption
from gradebook.forms import ExemptionDecisionForm, ExemptionRequestForm
from gradebook.models import Exemption, ExemptionScope, ExemptionState
from gradebook.services import GradebookError
from schools.access import PRINCIPAL_ROLES, get_class_group, get_school, get_school_object
from schools.models import Student, Subject


@require_safe
def exemption_list(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """Waiting requests first. The leadership and the admin see the school's; a teacher those
    of the classes they are homeroom teacher of and those they asked for."""
    access = get_school(request, code)
    rows = Exemption.objects.filter(school=access.school)
    if not access.sees_whole_school:
        mine = Q(requested_by=access.user) | Q(class_group__homeroom_teacher=access.user)
        rows = rows.filter(mine)
    rows = (
        rows.select_related("student", "subject", "class_group", "requested_by", "decided_by")
        .annotate(
            waiting=Case(
                When(state=ExemptionState.REQUESTED, then=Value(0)),
                default=Value(1),
                output_field=IntegerField(),
            )
        )
        .order_by("waiting", "-requested_at", "-pk")
    )
    page = Paginator(rows, 50).get_page(request.GET.get("page"))
    context = {"access": access, "page": page, "can_decide": access.is_principal}
    return render(request, "gradebook/exemptions.html", context)


@require_http_methods(["GET", "HEAD", "POST"])
def exemption_new(request: AuthenticatedRequest, code: str, class_pk: int) -> HttpResponse:
    """Ask for an exemption in a class: its homeroom teacher or the admin."""
    access = get_school(request, code)
    class_group = get_class_group(access, class_pk)
    if class_group.homeroom_teacher_id != access.user.pk and not access.can_setup:
        raise PermissionDenied
    form = ExemptionRequestForm(
        request.POST if request.method == "POST" else None, class_group=class_group
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            request_exemption(
                actor=request.user,
                class_group=class_group,
                student=Student.objects.get(pk=data["student"]),
                subject=Subject.objects.get(pk=data["subject"], school=access.school),
                term=data["term"],
                reason=data["reason"],
                document=data["document"],
                scope=data["scope"] or ExemptionScope.WHOLE,
                part=data["part"],
            )
        except GradebookError as error:
            form.add_error(None, error.message)
        else:
            messages.success(request, _("The exemption was sent to the principal for approval."))
            return redirect("gradebook:exemptions", code=code)
    context = {"access": access, "class_group": class_group, "form": form}
    return render(request, "gradebook/exemption_form.html", context)


@require_POST
def exemption_decide(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """The principal approves or rejects a waiting request, or withdraws an approved one."""
    access = get_school(request, code, roles=PRINCIPAL_ROLES)
    exemption = get_school_object(access, Exemption.objects.all(), pk, school_path="school")
    form = ExemptionDecisionForm(request.POST)
    try:
        if not form.is_valid():
            raise GradebookError(_("Choose whether to approve or reject the request."))
        decision = form.cleaned_data["decision"]
        if decision == "withdraw":
            withdraw_exemption(
                actor=request.user, exemption=exemption, reason=form.cleaned_data["reason"]
            )
            messages.success(request, _("Exemption withdrawn: the marks are due again."))
        else:
            approve = decision == "approve"
            decide_exemption(actor=request.user, exemption=exemption, approve=approve)
            messages.success(
                request, _("Exemption approved.") if approve else _("Exemption rejected.")
            )
    except GradebookError as error:
        messages.error(request, error.message)
    return redirect(reverse("gradebook:exemptions", args=[code]) + f"#exemption-{pk}")
