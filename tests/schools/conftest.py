"""Helpers for the set-up page tests: the admin of school A, logged in, and set-up URLs."""

from collections.abc import Callable

import pytest
from django.test import Client
from django.urls import reverse

from accounts.models import Membership, Role
from schools.models import School


@pytest.fixture
def setup_client(client: Client, world: dict) -> Client:
    client.force_login(world["users"]["admin"])
    return client


@pytest.fixture
def url(world: dict) -> Callable[..., str]:
    """`url("setup_classes", pk=...)` → the URL of that set-up page of school A."""

    def url(name: str, **kwargs: object) -> str:
        return reverse(f"schools:{name}", kwargs={"code": world["school_a"].code, **kwargs})

    return url


@pytest.fixture
def new_school(world: dict) -> School:
    """A school with no year yet, of which school A's admin is admin too."""
    school = School.objects.create(
        code="SCHOOLC", name="Trường THCS Mới", department_code="01", level="lower_secondary"
    )
    Membership.objects.create(user=world["users"]["admin"], school=school, role=Role.ADMIN)
    return school
