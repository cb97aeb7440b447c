"""In-app notifications (issue 17): `notify` creates one row per recipient among the school's
active staff and mails those with an address after the commit, in their language; the bell's
count costs one query whatever the number of notifications; the list, opening one (marks it
read) and marking all read."""

import logging

import pytest
from django.core import mail
from django.db import transaction
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from accounts.models import Notification, NotificationKind, User
from accounts.notifications import notify

KIND = NotificationKind.BOOK_UNLOCKED
PARAMS = {"class": "6A1", "subject": "Toán", "term": 1, "by": "principal", "reason": "Mở lại"}


def send(recipients, school, **more):
    return notify(recipients=recipients, kind=KIND, school_id=school.pk, params=PARAMS,
                  url="/s/SCHOOLA/", **more)  # fmt: skip


def test_notify_creates_one_row_per_member_of_the_school_and_never_for_another_school(
    school_a, teacher, homeroom, outsider
):
    created = send([teacher, homeroom, teacher, outsider], school_a)
    assert sorted(n.recipient.username for n in created) == ["homeroom", "teacher"]
    assert Notification.objects.filter(recipient=outsider).count() == 0
    assert Notification.objects.count() == 2


def test_notify_skips_the_actor_and_inactive_people(school_a, teacher, homeroom, principal):
    homeroom.is_active = False
    homeroom.save()
    created = send([teacher, homeroom, principal], school_a, actor=principal)
    assert [n.recipient for n in created] == [teacher]


def test_a_key_notifies_each_person_once(school_a, teacher, homeroom):
    assert len(send([teacher], school_a, key="lock-date:1")) == 1
    assert len(send([teacher, homeroom], school_a, key="lock-date:1")) == 1  # homeroom only
    assert Notification.objects.filter(key="lock-date:1").count() == 2


def test_mail_goes_after_commit_to_those_with_an_address_in_their_language(
    school_a, teacher, homeroom, principal, django_capture_on_commit_callbacks, settings
):
    settings.SITE_URL = "https://sodiem.example.edu.vn"
    teacher.email, teacher.language = "gv@example.edu.vn", "en"
    teacher.save()
    principal.email = "ht@example.edu.vn"  # no language chosen: Vietnamese, the default
    principal.save()
    with django_capture_on_commit_callbacks(execute=True):
        send([teacher, homeroom, principal], school_a)
        assert mail.outbox == []  # nothing before the commit
    assert sorted(m.to[0] for m in mail.outbox) == ["gv@example.edu.vn", "ht@example.edu.vn"]
    english = next(m for m in mail.outbox if m.to == ["gv@example.edu.vn"])
    vietnamese = next(m for m in mail.outbox if m.to == ["ht@example.edu.vn"])
    assert "principal unlocked the gradebooks 6A1 · Toán · Term I: Mở lại" in english.body
    assert "https://sodiem.example.edu.vn/s/SCHOOLA/" in english.body
    assert "6A1 · Toán · Học kỳ I" in vietnamese.body  # the words of the active language


def test_no_mail_when_the_action_rolls_back(school_a, teacher, django_capture_on_commit_callbacks):
    teacher.email = "gv@example.edu.vn"
    teacher.save()
    with (
        django_capture_on_commit_callbacks(execute=True),
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        send([teacher], school_a)
        raise RuntimeError("the action failed")
    assert mail.outbox == [] and not Notification.objects.exists()


def test_a_mail_failure_is_logged_and_never_breaks_the_action(
    school_a, teacher, settings, caplog, django_capture_on_commit_callbacks
):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    teacher.email = "gv@example.edu.vn"
    teacher.save()
    with caplog.at_level(logging.ERROR), django_capture_on_commit_callbacks(execute=True):
        send([teacher], school_a)
    assert Notification.objects.filter(recipient=teacher).count() == 1
    assert "not sent" in caplog.text


def test_the_language_chosen_in_the_navigation_bar_is_remembered(client, settings, teacher):
    client.force_login(teacher)
    client.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    client.get(reverse("notifications"))
    teacher.refresh_from_db()
    assert teacher.language == "en"


# The bell and the page ------------------------------------------------------------------------


def page_queries(client) -> tuple[list[str], str]:
    with CaptureQueriesContext(transaction.get_connection()) as queries:
        page = client.get(reverse("invitations")).content.decode()
    return [q["sql"] for q in queries], page


def test_the_bell_shows_the_unread_count_in_one_query_whatever_their_number(
    english, school_a, teacher
):
    english.force_login(teacher)
    page_queries(english)  # the session's first request does more (its two-factor decision)
    none, page = page_queries(english)
    assert 'id="notification-bell"' in page and 'id="notification-count"' not in page
    send([teacher], school_a)
    one, _page = page_queries(english)
    for _i in range(20):
        send([teacher], school_a)
    many, page = page_queries(english)
    assert 'id="notification-count">21<' in page and "21 unread notifications" in page
    assert len(none) == len(one) == len(many)
    bell = [sql for sql in many if "accounts_notification" in sql]
    assert len(bell) == 1 and "COUNT(" in bell[0].upper()


def test_the_page_lists_only_the_users_notifications(english, school_a, teacher, homeroom):
    send([teacher], school_a)
    send([homeroom], school_a)
    english.force_login(teacher)
    page = english.get(reverse("notifications")).content.decode()
    assert page.count('class="notification ') == 1
    assert "principal unlocked the gradebooks 6A1 · Toán · Term I: Mở lại" in page


def test_opening_a_notification_marks_it_read_and_follows_its_link(client, school_a, teacher):
    [notification] = send([teacher], school_a)
    client.force_login(teacher)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response.status_code == 302 and response.url == "/s/SCHOOLA/"
    notification.refresh_from_db()
    assert notification.read_at is not None


def test_another_persons_notification_is_a_404(client, school_a, teacher, homeroom):
    [notification] = send([homeroom], school_a)
    client.force_login(teacher)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response.status_code == 404
    notification.refresh_from_db()
    assert notification.read_at is None


def test_a_link_to_another_site_is_never_followed(client, school_a, teacher):
    [notification] = send([teacher], school_a)
    Notification.objects.filter(pk=notification.pk).update(url="https://evil.example/")
    client.force_login(teacher)
    response = client.post(reverse("notification_open", args=[notification.pk]))
    assert response.url == reverse("notifications")


def test_mark_all_read_touches_only_the_users_own(client, school_a, teacher, homeroom):
    send([teacher, homeroom], school_a)
    send([teacher], school_a)
    client.force_login(teacher)
    response = client.post(reverse("notifications_read_all"))
    assert response.status_code == 302
    assert not Notification.objects.filter(recipient=teacher, read_at__isnull=True).exists()
    assert Notification.objects.filter(recipient=homeroom, read_at__isnull=True).count() == 1


def test_marking_read_needs_a_post(client, school_a, teacher):
    [notification] = send([teacher], school_a)
    client.force_login(teacher)
    assert client.get(reverse("notification_open", args=[notification.pk])).status_code == 405
    assert client.get(reverse("notifications_read_all")).status_code == 405


def test_the_model_keeps_no_text_only_kind_and_parameters():
    fields = {f.name for f in Notification._meta.get_fields()}
    assert "params" in fields and "message" not in fields
    assert User._meta.get_field("language").blank
