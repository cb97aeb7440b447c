"""The transcript preview, sent with X-Frame-Options: SAMEORIGIN, keeps the strict policy but
may be framed by the product's own pages (config/csp.py)."""

from django.urls import reverse

from tests.config.test_csp import policy


def test_the_preview_may_be_framed_by_its_own_origin_only(client, transcript, principal):
    client.force_login(principal)
    response = client.get(reverse("hocba:preview", args=[transcript.school.code, transcript.pk]))
    assert response.status_code == 200
    found = policy(response)
    assert found["frame-ancestors"] == ["'self'"]
    assert found["script-src"] == ["'self'"] and found["object-src"] == ["'none'"]
    assert found["img-src"] == ["'self'", "data:"]  # the QR code
