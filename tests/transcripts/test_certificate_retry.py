"""Issue 17, item 3: a wrong certificate password says so once, and does not use up the
two-factor code: the certificate is opened first (only with a code that is valid now), and the
code is spent only once it opened, so an immediate retry with the right password and the same
code goes through."""

from __future__ import annotations

import time
import types

import pytest
from allauth.mfa.totp.internal import auth
from django.core.cache import cache
from django.urls import reverse

from accounts.totp import current_totp_code
from tests.transcripts.conftest import P12_PASSWORD, make_p12
from tests.transcripts.test_jobs import confirm_class, tiny_class  # noqa: F401 (a fixture)
from tests.transcripts.test_signing_settings import my_url, p12_file
from transcripts.models import SigningCredential, TranscriptJob, TranscriptPackage


@pytest.fixture(autouse=True)
def one_time_step(monkeypatch):
    """The test's requests fall in one 30-second step, as a person's quick retry does."""
    now = time.time()
    monkeypatch.setattr(auth, "time", types.SimpleNamespace(time=lambda: now))
    return now


def export(client, school, password, otp):
    path = reverse("hocba:package_start", args=[school.code])
    return client.post(path, {"kind": "full", "seal_password": password, "otp": otp})


def test_export_wrong_seal_password_then_right_one_with_the_same_code(
    client, final_class, admin, school_a, one_time_step
):
    client.force_login(admin)
    cache.clear()
    otp = current_totp_code(admin, at=one_time_step)
    wrong = export(client, school_a, "sai-mat-khau", otp).content.decode()
    assert wrong.count("Không mở được") == 1  # the reason once, not "…: Không mở được tệp …"
    assert "Không mở được tệp chứng thư số: sai mật khẩu" in wrong
    assert "Mã không hợp lệ" not in wrong and not TranscriptPackage.objects.exists()
    right = export(client, school_a, P12_PASSWORD, otp)
    assert right.status_code == 302
    assert TranscriptPackage.objects.count() == 1
    again = export(client, school_a, P12_PASSWORD, otp)  # now the code is spent
    assert again.status_code == 400 and TranscriptPackage.objects.count() == 1


def test_a_wrong_code_opens_no_certificate(english, final_class, admin, school_a):
    """Without a valid code the password is never tried: nothing tells whether it was right."""
    english.force_login(admin)
    page = export(english, school_a, "sai-mat-khau", "000000").content.decode()
    assert "That code is not valid" in page
    assert "wrong password" not in page and "Cannot open" not in page


def test_signing_wrong_password_then_right_one_with_the_same_code(
    english, backend, school_a, tiny_class, homeroom, credentials,  # noqa: F811
    django_capture_on_commit_callbacks, one_time_step,
):  # fmt: skip
    confirm_class(
        english, django_capture_on_commit_callbacks, school_a, tiny_class, homeroom, backend
    )
    url = reverse("hocba:class_job", args=[school_a.code, tiny_class.pk])
    before = TranscriptJob.objects.count()
    cache.clear()
    otp = current_totp_code(homeroom, at=one_time_step)
    data = {"steps": "homeroom", "confirm": "1", "otp": otp}
    wrong = english.post(url, {**data, "password": "nope"}).content.decode()
    assert wrong.count("Cannot open the certificate file: wrong password") == 1
    assert "could not be opened: Cannot open" not in wrong
    assert TranscriptJob.objects.count() == before
    right = english.post(url, {**data, "password": P12_PASSWORD})
    assert right.status_code == 302 and TranscriptJob.objects.count() == before + 1


def test_signing_settings_wrong_password_then_right_one_with_the_same_code(
    pki, english, signing_setup, school_a, class_a, homeroom, one_time_step
):
    english.force_login(homeroom)
    data = make_p12(pki, common_name="homeroom")
    cache.clear()
    otp = current_totp_code(homeroom, at=one_time_step)

    def post(password):
        fields = {"method": "pkcs12", "pkcs12_password": password, "otp": otp}
        return english.post(my_url(school_a), {**fields, "pkcs12_file": p12_file(data)})

    wrong = post("sai-mat-khau").content.decode()
    assert wrong.count("Cannot open the certificate file: wrong password") == 1
    assert "could not be opened: Cannot open" not in wrong
    assert not SigningCredential.objects.exists()
    assert post(P12_PASSWORD).status_code == 302
    assert SigningCredential.objects.filter(is_active=True).count() == 1
