"""The only way the Department's views reach its data (docs/department.md).

A Department member reaches the Department whose code is in the URL only through an active
`DepartmentMembership`, and a school only if its `department_code` is that Department's code:
anything else is a 404, its existence not revealed. Nothing here gives a school role: the
Department's pages are read-only aggregates (department/overview.py), and a Department member
opens no school page, gradebook or transcript (no Membership, so schools/access.py says 404).
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404

from accounts.http import AuthenticatedRequest
from accounts.models import User
from schools.models import Department, DepartmentMembership, School


@dataclass(frozen=True)
class DepartmentAccess:
    """One user reading one Department's province."""

    user: User
    department: Department

    def schools(self) -> QuerySet[School]:
        return self.department.schools()


def departments_of(user: User) -> list[Department]:
    """The Departments the user is an active member of (one query)."""
    memberships = DepartmentMembership.objects.filter(user_id=user.pk, is_active=True)
    return [m.department for m in memberships.select_related("department").order_by("pk")]


def get_department(request: AuthenticatedRequest, code: str) -> DepartmentAccess:
    """The Department with this code if the user is an active member of it; 404 otherwise."""
    membership = (
        DepartmentMembership.objects.filter(
            user_id=request.user.pk, is_active=True, department__code=code
        )
        .select_related("department")
        .first()
    )
    if membership is None:
        raise Http404
    return DepartmentAccess(user=request.user, department=membership.department)


def get_department_school(access: DepartmentAccess, school_code: str) -> School:
    """A school of the Department's province; another province's school is a 404."""
    return get_object_or_404(School, code=school_code, department_code=access.department.code)
