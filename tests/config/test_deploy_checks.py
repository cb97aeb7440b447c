"""`manage.py check --deploy` warns about a cache each process keeps to itself (the rate limits
and single-use codes would not hold across processes) and about a PROVINCE_UPLOAD_URL whose host
is not one of PROVINCE_UPLOAD_HOSTS."""

import pytest

from config.checks import check_ledger_checkpoint_key, check_shared_cache
from tests.config.test_settings import PROD_ENV, run_manage
from transcripts.checks import check_province_upload_url

LOCMEM = "django.core.cache.backends.locmem.LocMemCache"
DUMMY = "django.core.cache.backends.dummy.DummyCache"
REDIS = "django.core.cache.backends.redis.RedisCache"
DEPARTMENT = "hocba.sgddt.example.gov.vn"


def test_check_deploy_warns_about_a_per_process_cache():
    env = {**PROD_ENV, "CACHE_BACKEND": "locmem"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "(sodiem.W002) The cache (LocMemCache) is kept by each process" in result.stderr


@pytest.mark.parametrize(("backend", "warned"), [(LOCMEM, True), (DUMMY, True), (REDIS, False)])
def test_the_cache_check(settings, backend, warned):
    settings.CACHES = {"default": {"BACKEND": backend, "LOCATION": "redis://127.0.0.1:6379/1"}}
    found = check_shared_cache()
    assert [m.id for m in found] == (["sodiem.W002"] if warned else [])


def test_check_deploy_warns_about_an_upload_url_off_the_departments_hosts():
    env = {
        **PROD_ENV,
        "PROVINCE_UPLOAD_URL": "https://collector.example.com/api/packages",
        "PROVINCE_UPLOAD_HOSTS": DEPARTMENT,
    }
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "(transcripts.W001) PROVINCE_UPLOAD_URL='https://collector.example.com/" in (
        result.stderr
    )
    assert "“collector.example.com” is not one of the Department's servers" in result.stderr


@pytest.mark.parametrize(
    ("url", "hosts", "warned"),
    [
        ("", [], False),  # no deployment address: nothing to check
        (f"https://{DEPARTMENT}/upload", [DEPARTMENT], False),
        (f"https://{DEPARTMENT.upper()}.:8443/upload", [DEPARTMENT], False),
        (f"https://{DEPARTMENT}.evil.example/upload", [DEPARTMENT], True),
        (f"https://{DEPARTMENT}@evil.example/upload", [DEPARTMENT], True),
        (f"https://{DEPARTMENT}/upload", [], True),  # no host allowed at all
    ],
)
def test_the_upload_url_check(settings, url, hosts, warned):
    settings.PROVINCE_UPLOAD_URL = url
    settings.PROVINCE_UPLOAD_HOSTS = hosts
    found = check_province_upload_url()
    assert [m.id for m in found] == (["transcripts.W001"] if warned else [])


def test_check_deploy_warns_about_a_ledger_key_inside_the_application():
    env = {key: value for key, value in PROD_ENV.items() if key != "LEDGER_CHECKPOINT_KEY_FILE"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "(sodiem.W003) The ledger checkpoint key" in result.stderr


def test_the_ledger_key_check(settings, tmp_path):
    settings.LEDGER_CHECKPOINT_KEY_FILE = settings.BASE_DIR / "var" / "key.pem"
    assert [m.id for m in check_ledger_checkpoint_key()] == ["sodiem.W003"]
    settings.LEDGER_CHECKPOINT_KEY_FILE = tmp_path / "key.pem"
    assert check_ledger_checkpoint_key() == []
