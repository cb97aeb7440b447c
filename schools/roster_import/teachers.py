"""Teacher accounts: one row per teacher (username, full name, email, phone).

A new username becomes an account with an unusable password (the teacher sets one through
"forgot password") and a TEACHER membership of this school. An existing username is left as it
is, whatever the file says: the account belongs to its owner. If it has held a role here, it
gets the membership; if not (another school's, an operator's), it is only invited
(schools/invitations.py) and joins when its owner accepts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import partial

from allauth.account.models import EmailAddress
from django.db.models import Q
from django.db.models.functions import Lower
from django.utils.translation import gettext as _

from accounts.models import Membership, Role, User
from schools.models import School
from schools.roster_import import values
from schools.roster_import.columns import Header, Record
from schools.roster_import.errors import RowError
from schools.roster_import.validate import Count, RowCleaner


@dataclass
class TeacherPlan:
    errors: list[RowError] = field(default_factory=list)
    new_users: list[User] = field(default_factory=list)
    existing_users: int = 0
    new_members: list[User] = field(default_factory=list)
    existing_members: int = 0
    invited: list[User] = field(default_factory=list)

    def counts(self) -> list[Count]:
        counts = [
            Count(
                _("Teacher accounts"), created=len(self.new_users), unchanged=self.existing_users
            ),
            Count(
                _("Teacher memberships"),
                created=len(self.new_members),
                unchanged=self.existing_members,
            ),
        ]
        if self.invited:
            counts.append(Count(_("Invitations to accounts of other schools"), len(self.invited)))
        return counts


def _clean(cleaner: RowCleaner) -> dict[str, str | None]:
    return {
        "username": cleaner.get("username", values.username, required=True),
        "full_name": cleaner.get("full_name", partial(values.text, max_length=150), required=True),
        "email": cleaner.get("email", values.email, required=True),
        "phone": cleaner.get("phone", values.phone),
    }


@dataclass
class _Lookup:
    users: dict[str, User]  # lower-case username → user
    email_owners: set[str]  # lower-case addresses that already belong to an account
    members: set[int]  # ids of users with a TEACHER membership here (active or not)
    staff: set[int]  # ids of users with any membership here (active or not)

    @classmethod
    def load(cls, *, school: School, usernames: set[str], emails: set[str]) -> _Lookup:
        lowered = {u.lower() for u in usernames}
        users = User.objects.annotate(lower_username=Lower("username")).filter(
            Q(username__in=usernames) | Q(lower_username__in=lowered)
        )
        owners = set(
            User.objects.annotate(e=Lower("email")).filter(e__in=emails).values_list("e", flat=True)
        )
        owners |= {
            e.lower()
            for e in EmailAddress.objects.annotate(e=Lower("email"))
            .filter(e__in=emails)
            .values_list("email", flat=True)
        }
        here = Membership.objects.filter(school=school, user__in=users)
        roles = list(here.values_list("user_id", "role"))
        return cls(
            users={u.username.lower(): u for u in users},
            email_owners=owners,
            members={user_id for user_id, role in roles if role == Role.TEACHER},
            staff={user_id for user_id, _role in roles},
        )


def plan_teachers(records: list[Record], *, header: Header, school: School) -> TeacherPlan:
    plan = TeacherPlan()
    cleaned: list[tuple[RowCleaner, dict[str, str | None]]] = []
    seen_usernames: dict[str, int] = {}
    seen_emails: dict[str, int] = {}
    for record in records:
        cleaner = RowCleaner(record, header, plan.errors)
        fields = _clean(cleaner)
        cleaner.once("username", fields["username"], seen_usernames)
        cleaner.once("email", fields["email"], seen_emails)
        cleaned.append((cleaner, fields))
    lookup = _Lookup.load(
        school=school,
        usernames={f["username"] for _, f in cleaned if f["username"]},
        emails={f["email"] for _, f in cleaned if f["email"]},
    )
    for cleaner, fields in cleaned:
        if not cleaner.ok:
            continue
        user = lookup.users.get(str(fields["username"]).lower())
        if user is None:
            if fields["email"] in lookup.email_owners:
                cleaner.error("email", _("This email address already belongs to another account."))
                continue
            username, full_name, email = fields["username"], fields["full_name"], fields["email"]
            # required cells: a row that lacks one is not ok
            assert username is not None and full_name is not None and email is not None
            user = User(
                username=username,
                full_name=full_name,
                email=email,
                phone=fields["phone"] or "",
            )
            user.set_unusable_password()
            plan.new_users.append(user)
        else:
            plan.existing_users += 1
            if user.pk not in lookup.staff:
                plan.invited.append(user)
                continue
        if user.pk is not None and user.pk in lookup.members:
            plan.existing_members += 1
        else:
            plan.new_members.append(user)
    return plan
