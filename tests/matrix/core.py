from tests.matrix import Row, everyone, school_a

ROWS = [
    Row("home", lambda w: {}, everyone(302)),  # one school each: straight to its dashboard
    Row("schools:dashboard", school_a, everyone(200, outsider=404)),
    Row(
        "schools:class_detail",
        lambda w: {**school_a(w), "pk": w["class_a"].pk},
        everyone(200, outsider=404),
        label="own class",
    ),
    Row(
        "schools:class_detail",
        lambda w: {**school_a(w), "pk": w["class_a2"].pk},
        everyone(200, teacher=403, homeroom=403, outsider=404),
        label="class not taught",
    ),
    Row(
        "schools:class_detail",
        lambda w: {**school_a(w), "pk": w["class_b"].pk},
        everyone(404),
        label="other school's class in URL of school A",
    ),
]
ROWS.append(Row("schools:setup", school_a, everyone(403, admin=200, outsider=404)))


def invitation(w: dict) -> dict:
    """School A's open invitation to the outsider (school B's staff)."""
    from django.utils import timezone

    from schools.invitations import VALID_FOR
    from schools.models import Invitation

    found, _ = Invitation.objects.get_or_create(
        school=w["school_a"],
        invited_user=w["users"]["outsider"],
        accepted_at=None,
        declined_at=None,
        defaults={
            "inviter": w["users"]["admin"],
            "roles": ["teacher"],
            "expires_at": timezone.now() + VALID_FOR,
        },
    )
    return {"pk": found.pk}


# A person's invitations: their own only; another's is a 404, answering one takes a POST.
ROWS += [
    Row("invitations", lambda w: {}, everyone(200)),
    Row("invitation_accept", invitation, everyone(405)),
    Row("invitation_accept", invitation, everyone(404, outsider=302), method="POST"),
    Row("invitation_decline", invitation, everyone(405)),
    Row("invitation_decline", invitation, everyone(404, outsider=302), method="POST"),
]


def teachers_notification(w: dict) -> dict:
    """A notification of school A's teacher: theirs only, another's is a 404."""
    from accounts.models import Notification, NotificationKind

    found, _ = Notification.objects.get_or_create(
        recipient=w["users"]["teacher"],
        school=w["school_a"],
        kind=NotificationKind.BOOK_UNLOCKED,
        defaults={"url": "/", "params": {"class": "6A1", "subject": "", "term": 1, "by": "x",
                                         "reason": "y"}},
    )  # fmt: skip
    return {"pk": found.pk}


# A person's notifications (accounts/views.py): the list is everyone's own; opening one and
# marking all read take a POST, and another person's notification is a 404.
ROWS += [
    Row("notifications", lambda w: {}, everyone(200)),
    Row("notification_open", teachers_notification, everyone(405)),
    Row("notification_open", teachers_notification, everyone(404, teacher=302), method="POST"),
    Row("notifications_read_all", lambda w: {}, everyone(405)),
    Row("notifications_read_all", lambda w: {}, everyone(302), method="POST"),
]
