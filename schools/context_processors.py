from django.http import HttpRequest

from schools.access import school_roles, schools_of


def memberships(request: HttpRequest) -> dict:
    """The user's schools, for the navigation bar (one query, lazily)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}

    def my_schools() -> list:
        roles = school_roles(user)
        return [(school, roles[school.pk]) for school in schools_of(user)]

    return {"my_schools": my_schools}
