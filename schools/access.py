"""The only way views reach school objects.

Every getter scopes by the user's active memberships: an object of a school the user does not
belong to is a 404 (its existence is not revealed); an object of the user's school that the
user's role may not touch is a 403.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import cached_property

from django.core.exceptions import PermissionDenied
from django.db.models import Q, QuerySet
from django.http import Http404
from django.shortcuts import get_object_or_404
from django.utils.translation import gettext as _

from accounts.http import AuthenticatedRequest
from accounts.models import Membership, Role, User
from schools import hot
from schools.models import (
    ClassGroup,
    School,
    SchoolYear,
    Student,
    Subject,
    TeachingAssignment,
)

# Named capabilities: which staff roles may do what. Each role predicate is one of these sets,
# asked either of a request's `SchoolAccess` (no query) or, by a service inside its transaction,
# through `holds_any` and its named forms `is_leader` and `is_principal` (one query each).
LEADERSHIP_ROLES = frozenset({Role.PRINCIPAL, Role.VICE_PRINCIPAL})
"""The school's leadership, the principal or a vice principal (the delegate): locks and unlocks
gradebooks, decides corrections, signs transcripts as the principal and returns them
(homeroom teachers sign too, through their class)."""
PRINCIPAL_ROLES = frozenset({Role.PRINCIPAL})
"""The principal alone: applies the school seal and reopens a final transcript."""
SETUP_ROLES = frozenset({Role.ADMIN})
"""Set up the year: classes, subjects, curriculum, teachers, assignments, students, imports."""
OVERVIEW_ROLES = SETUP_ROLES | LEADERSHIP_ROLES
"""See the whole school: every class, every gradebook, every student."""
EXPORT_ROLES = SETUP_ROLES | PRINCIPAL_ROLES
"""Export the school's signed transcripts (sealing the package) and upload them to the
Department."""
SEAL_ROLES = EXPORT_ROLES  # the same people: those who seal the packages they export
"""Choose how the school seal signs (its certificate and signing method)."""


def school_roles(user: User) -> dict[int, frozenset[str]]:
    """school id → the user's active roles there. Cached on the user object per request."""
    return {pk: roles for pk, (_school, roles) in _memberships(user).items()}


#: Where the user object keeps its memberships for the request (set by :func:`_memberships`).
_CACHE = "_memberships"


def _memberships(user: User) -> dict[int, tuple[School, frozenset[str]]]:
    """school id → (the school, the user's active roles there), in one query (every request
    runs it: a hand-written statement, schools/hot.py). Cached on the user object per
    request."""
    cached: dict[int, tuple[School, frozenset[str]]] | None = getattr(user, _CACHE, None)
    if cached is None:
        schools: dict[int, School] = {}
        roles: dict[int, set[str]] = {}
        if user.is_authenticated:
            for school, role in hot.memberships(user.pk):
                schools.setdefault(school.pk, school)
                roles.setdefault(school.pk, set()).add(role)
        cached = {pk: (school, frozenset(roles[pk])) for pk, school in schools.items()}
        setattr(user, _CACHE, cached)  # not a field: absent until the first check
    return cached


def schools_of(user: User) -> QuerySet[School]:
    return School.objects.filter(pk__in=school_roles(user).keys())


@dataclass
class SchoolAccess:
    """What one user may do in one school; returned by `get_school`."""

    user: User
    school: School
    roles: frozenset[str] = field(default_factory=frozenset)

    def has_any(self, roles: Iterable[str]) -> bool:
        return bool(self.roles & set(roles))

    @property
    def can_setup(self) -> bool:
        return self.has_any(SETUP_ROLES)

    @property
    def sees_whole_school(self) -> bool:
        return self.has_any(OVERVIEW_ROLES)

    @property
    def is_leader(self) -> bool:
        """The principal or a vice principal (`LEADERSHIP_ROLES`; no query)."""
        return self.has_any(LEADERSHIP_ROLES)

    @property
    def is_principal(self) -> bool:
        """The principal (`PRINCIPAL_ROLES`; no query)."""
        return self.has_any(PRINCIPAL_ROLES)

    @property
    def exports(self) -> bool:
        """Exports and uploads the school's transcripts (`EXPORT_ROLES`; no query)."""
        return self.has_any(EXPORT_ROLES)

    @cached_property
    def year(self) -> SchoolYear | None:
        """The school's current year (None before the admin sets one up)."""
        return self.school.current_year()

    def year_or_404(self) -> SchoolYear:
        """The current year, or a 404 saying that none has been set up yet."""
        if self.year is None:
            raise Http404(_("No current school year has been set up yet."))
        return self.year

    def require(self, roles: Iterable[str]) -> None:
        if not self.has_any(roles):
            raise PermissionDenied

    def accessible_classes(self) -> QuerySet[ClassGroup]:
        """Classes of any year this user may open: all for leadership/admin; otherwise those the
        user is homeroom teacher of or teaches."""
        classes = ClassGroup.objects.filter(year__school=self.school)
        if self.sees_whole_school:
            return classes
        taught = TeachingAssignment.objects.filter(teacher=self.user).values("class_group_id")
        return classes.filter(Q(homeroom_teacher=self.user) | Q(pk__in=taught))

    def reads_whole_class(self, class_group: ClassGroup) -> bool:
        """Reads every book of the class (each subject's and the homeroom book), its summary
        and its transcripts: leadership/admin and the class's homeroom teacher (no query)."""
        return self.sees_whole_school or class_group.homeroom_teacher_id == self.user.pk

    def readable_subjects(self, class_group: ClassGroup) -> QuerySet[Subject]:
        """The subjects of the class's curriculum whose book this user may open
        (`get_subject_gradebook`): all of them for `reads_whole_class`, otherwise those the
        user teaches the class."""
        subjects = Subject.objects.filter(
            curriculum__year_id=class_group.year_id, curriculum__grade=class_group.grade
        )
        if not self.reads_whole_class(class_group):
            subjects = subjects.filter(
                assignments__class_group=class_group, assignments__teacher=self.user
            )
        return subjects.distinct().order_by("order", "code")

    def visible_classes(self, year: SchoolYear | None = None) -> QuerySet[ClassGroup]:
        """`accessible_classes` of one year (the current one by default)."""
        year = year or self.year
        if year is None:
            return ClassGroup.objects.none()
        return self.accessible_classes().filter(year=year)


def school_access(user: User, school: School) -> SchoolAccess:
    """What the user may do in this school, from the user's memberships (loaded once per user
    object): for a job or a command, where no request goes through `get_school`."""
    return SchoolAccess(
        user=user, school=school, roles=school_roles(user).get(school.pk, frozenset())
    )


def holds_any(user: User, school_id: int, roles: Iterable[str]) -> bool:
    """Whether the user holds one of `roles` in the school now (an active membership): one
    query, never cached, so that a service decides on what is true inside its transaction."""
    found = Membership.objects.active().filter(user_id=user.pk, school_id=school_id, role__in=roles)
    return found.exists()


def is_leader(user: User, school_id: int) -> bool:
    """The principal or a vice principal of the school (`LEADERSHIP_ROLES`): one query."""
    return holds_any(user, school_id, LEADERSHIP_ROLES)


def is_principal(user: User, school_id: int) -> bool:
    """The principal of the school (`PRINCIPAL_ROLES`): one query."""
    return holds_any(user, school_id, PRINCIPAL_ROLES)


def require_leader(user: User, school_id: int) -> None:
    """PermissionDenied, saying why, unless the user leads the school (`is_leader`)."""
    if not is_leader(user, school_id):
        raise PermissionDenied(_("Only the principal or a vice principal may do this."))


def get_school(
    request: AuthenticatedRequest, code: str, *, roles: Iterable[str] | None = None
) -> SchoolAccess:
    """The school with this code if the user belongs to it (404 otherwise); 403 if `roles` is
    given and the user holds none of them there."""
    found = [m for m in _memberships(request.user).values() if m[0].code == code]
    if not found:
        raise Http404
    school, roles_there = found[0]
    access = SchoolAccess(user=request.user, school=school, roles=roles_there)
    if roles is not None:
        access.require(roles)
    return access


def get_class_group(access: SchoolAccess, pk: int) -> ClassGroup:
    """A class of this school (any year); 404 for another school's, 403 if the user neither
    leads the school nor teaches or is homeroom teacher of the class."""
    class_group = get_object_or_404(
        ClassGroup.objects.select_related("year", "homeroom_teacher"),
        pk=pk,
        year__school=access.school,
    )
    if not access.accessible_classes().filter(pk=class_group.pk).exists():
        raise PermissionDenied
    return class_group


def get_school_object(access: SchoolAccess, queryset: QuerySet, pk: int, *, school_path: str):
    """Any object whose school is reached through `school_path` (e.g. "year__school");
    404 outside the school. Role checks are the caller's `access.require(...)`."""
    return get_object_or_404(queryset, pk=pk, **{school_path: access.school})


def get_student(access: SchoolAccess, pk: int) -> Student:
    """A student of this school: leadership/admin see all; a teacher sees students of the
    classes they may open (current or past years)."""
    student = get_object_or_404(Student, pk=pk, school=access.school)
    if access.sees_whole_school:
        return student
    if not access.accessible_classes().filter(enrollments__student=student).exists():
        raise PermissionDenied
    return student


# --- Gradebooks -------------------------------------------------------------------------------


def get_subject_gradebook(
    access: SchoolAccess, class_pk: int, subject_pk: int, *, write: bool = False
) -> hot.SubjectBook:
    """A class × subject gradebook. Reading: leadership/admin, the homeroom teacher and the
    subject's teachers of that class. Writing: only a teacher assigned to that class × subject.
    404 outside the school or when the subject is not in the class's curriculum.

    One hand-written statement (schools/hot.py): every grid page and every cell save runs it."""
    return _subject_gradebook(access, class_pk, subject_pk, write=write)


def get_subject_cell(
    access: SchoolAccess, class_pk: int, subject_pk: int, student_pk: int | None
) -> hot.SubjectBook:
    """`get_subject_gradebook` for writing, with the student's enrolment in the class (None if
    the student is not in it, or `student_pk` is None), read by the same statement: a cell
    save."""
    return _subject_gradebook(access, class_pk, subject_pk, write=True, student_pk=student_pk)


def _subject_gradebook(
    access: SchoolAccess,
    class_pk: int,
    subject_pk: int,
    *,
    write: bool,
    student_pk: int | None = None,
) -> hot.SubjectBook:
    book = hot.subject_book(
        school=access.school, class_id=class_pk, subject_id=subject_pk, user_id=access.user.pk,
        student_id=student_pk,
    )  # fmt: skip
    if book is None:
        raise Http404
    if write:
        if not book.teaches:
            raise PermissionDenied
    elif not (book.teaches or access.reads_whole_class(book.class_group)):
        raise PermissionDenied
    return book


def get_homeroom_book(access: SchoolAccess, class_pk: int, *, write: bool = False) -> ClassGroup:
    """A class's homeroom book (conduct, absences, homeroom comments, qualities). Reading:
    leadership/admin and the homeroom teacher. Writing: only the homeroom teacher."""
    class_group = get_object_or_404(
        ClassGroup.objects.select_related("year", "year__school", "homeroom_teacher"),
        pk=class_pk,
        year__school=access.school,
    )
    if write and class_group.homeroom_teacher_id != access.user.pk:
        raise PermissionDenied
    if not access.reads_whole_class(class_group):
        raise PermissionDenied
    return class_group
