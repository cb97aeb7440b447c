from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Q
from django.http import HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST, require_safe

from accounts.http import AuthenticatedRequest
from schools.access import SETUP_ROLES, SchoolAccess, get_class_group, get_school, schools_of
from schools.invitations import accept_invitation, decline_invitation, pending_invitations
from schools.models import ClassGroup, Department, Enrollment, Invitation


def home(request: AuthenticatedRequest) -> HttpResponse:
    """One school: straight to its dashboard. Several: pick one. None: say so. Invitations to
    answer: they are shown first. A Department's member without a school goes to the
    Department's dashboard (department/); with schools too, it is listed beside them."""
    schools = list(schools_of(request.user))
    has_invitations = Invitation.objects.pending().filter(invited_user=request.user).exists()
    if len(schools) == 1 and not has_invitations:
        return redirect("schools:dashboard", code=schools[0].code)
    departments = list(
        Department.objects.filter(
            memberships__user_id=request.user.pk, memberships__is_active=True
        ).distinct()
    )
    if not schools and len(departments) == 1 and not has_invitations:
        return redirect("department:dashboard", code=departments[0].code)
    context = {"schools": schools, "has_invitations": has_invitations, "departments": departments}
    return render(request, "schools/home.html", context)


@require_safe
def invitations(request: AuthenticatedRequest) -> HttpResponse:
    """The invitations to join a school's staff that the person may still answer."""
    context = {"invitations": pending_invitations(request.user)}
    return render(request, "schools/invitations.html", context)


def _answer_invitation(
    request: AuthenticatedRequest, pk: int, answer: Callable[..., Invitation], message: str
) -> HttpResponse:
    """Accept or decline one of the person's own invitations (another's is a 404)."""
    invitation = get_object_or_404(Invitation, pk=pk, invited_user=request.user)
    try:
        answered = answer(invitation=invitation, user=request.user)
    except ValidationError as error:
        messages.error(request, " ".join(error.messages))
        return redirect("invitations")
    messages.success(request, message % {"school": answered.school.name})
    return redirect("home")


@require_POST
def invitation_accept(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    message = _("You now work in %(school)s.")
    return _answer_invitation(request, pk, accept_invitation, message)


@require_POST
def invitation_decline(request: AuthenticatedRequest, pk: int) -> HttpResponse:
    message = _("You declined the invitation of %(school)s.")
    return _answer_invitation(request, pk, decline_invitation, message)


DASHBOARD_PARTS: list[Callable[[SchoolAccess], dict[str, Any]]] = []
"""Parts of the dashboard that the layers above add when they load, schools knowing nothing of
them (gradebook/apps.py: the teacher's books, with what is missing and the lock dates)."""


def dashboard(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The school's home page, with a section for each of the user's roles."""
    access = get_school(request, code)
    year = access.year
    context: dict = {"access": access, "year": year}
    if year is not None:
        context["homeroom_classes"] = ClassGroup.objects.filter(
            year=year, homeroom_teacher=request.user
        ).annotate(student_count=Count("enrollments", filter=Q(enrollments__left_on__isnull=True)))
        if access.sees_whole_school:
            context["classes"] = (
                ClassGroup.objects.filter(year=year)
                .select_related("homeroom_teacher")
                .annotate(
                    student_count=Count(
                        "enrollments", filter=Q(enrollments__left_on__isnull=True), distinct=True
                    ),
                    subject_count=Count("assignments__subject", distinct=True),
                )
            )
            context["student_total"] = Enrollment.objects.filter(
                class_group__year=year, left_on__isnull=True
            ).count()
            context["teacher_total"] = (
                access.school.memberships.active().filter(role="teacher").count()
            )
        for part in DASHBOARD_PARTS:
            context.update(part(access))
    return render(request, "schools/dashboard.html", context)


def class_detail(request: AuthenticatedRequest, code: str, pk: int) -> HttpResponse:
    """A class list: the students in roll order, with the class's subjects and teachers, and
    links to the class's books, summary and transcripts that the viewer may open."""
    access = get_school(request, code)
    class_group = get_class_group(access, pk)
    enrollments = class_group.enrollments.select_related("student").order_by("roll_number")
    assignments = class_group.assignments.select_related("subject", "teacher").order_by(
        "subject__order", "subject__code"
    )
    return render(
        request,
        "schools/class_detail.html",
        {
            "access": access,
            "class_group": class_group,
            "enrollments": enrollments,
            "assignments": assignments,
            # Where the page leads: only what this viewer may open (schools/access.py).
            "subject_books": access.readable_subjects(class_group),
            "reads_whole_class": access.reads_whole_class(class_group),
        },
    )


def setup_home(request: AuthenticatedRequest, code: str) -> HttpResponse:
    """The school admin's set-up page: links to every list the admin maintains."""
    access = get_school(request, code, roles=SETUP_ROLES)
    return render(request, "schools/setup/home.html", {"access": access, "year": access.year})
