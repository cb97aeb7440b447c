import os
import re
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.checks import is_loopback_host, site_url_problem
from config.env import env_bool, env_choice, env_int, env_list

ROOT = Path(__file__).resolve().parents[2]

PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 64 + "-not-a-real-secret-but-long-and-random-looking-Zq8",
    "ALLOWED_HOSTS": "sodiem.example.edu.vn",
    "SITE_URL": "https://sodiem.example.edu.vn",
    "DATABASE_URL": "sqlite:////tmp/sodiem-deploy-check.sqlite3",
    "CACHE_BACKEND": "redis",  # several web processes share it (check --deploy: sodiem.W002)
    "LEDGER_CHECKPOINT_KEY_FILE": "/srv/sodiem-keys/ledger-key.pem",  # sodiem.W003 (not read)
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    ours = ("DEBUG", "SECRET_KEY", "SITE_URL", "ALLOWED_HOSTS")
    clean = {k: v for k, v in os.environ.items() if k not in ours}
    return subprocess.run(
        [sys.executable, "manage.py", *args], env={**clean, **env}, capture_output=True, text=True
    )


@pytest.mark.parametrize("raw,expected", [("1", True), ("yes", True), ("off", False), ("", False)])
def test_env_bool_reads_common_spellings(monkeypatch, raw, expected):
    monkeypatch.setenv("FLAG", raw)
    assert env_bool("FLAG", not expected) is expected


def test_env_bool_rejects_nonsense(monkeypatch):
    monkeypatch.setenv("FLAG", "maybe")
    with pytest.raises(ImproperlyConfigured, match="FLAG"):
        env_bool("FLAG", False)


def test_env_int_rejects_text_and_values_below_minimum(monkeypatch):
    monkeypatch.setenv("N", "ten")
    with pytest.raises(ImproperlyConfigured):
        env_int("N", 1)
    monkeypatch.setenv("N", "-3")
    with pytest.raises(ImproperlyConfigured):
        env_int("N", 1, minimum=0)


def test_env_list_and_choice(monkeypatch):
    monkeypatch.setenv("HOSTS", " a.vn, b.vn ,")
    assert env_list("HOSTS", []) == ["a.vn", "b.vn"]
    monkeypatch.setenv("MODE", "fast")
    with pytest.raises(ImproperlyConfigured):
        env_choice("MODE", "slow", {"slow", "safe"})


def test_production_refuses_to_start_without_secret_key():
    result = run_manage("check", env={"DEBUG": "0"})
    assert result.returncode != 0
    assert "SECRET_KEY is required" in result.stderr


def test_check_deploy_passes_with_production_variables():
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=PROD_ENV)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(
    ("env", "hosts"),
    [
        ({}, "[]"),  # production: no upload until the Department's hosts are set
        ({"DEBUG": "1"}, "['127.0.0.1', 'localhost']"),  # the demo receiver of `make run`
        ({"PROVINCE_UPLOAD_HOSTS": "hocba.sgddt.example.gov.vn"}, "['hocba.sgddt.example.gov.vn']"),
    ],
)
def test_upload_hosts_default_to_none_in_production_and_this_machine_in_development(env, hosts):
    script = "from django.conf import settings; print(settings.PROVINCE_UPLOAD_HOSTS)"
    result = run_manage("shell", "-c", script, env={**PROD_ENV, **env})
    assert result.stdout.strip().splitlines()[-1] == hosts, result.stderr


def test_defaults_are_vietnamese_and_hanoi_time(settings):
    assert settings.LANGUAGE_CODE == "vi"
    assert [code for code, _ in settings.LANGUAGES] == ["vi", "en"]
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"


# --- SITE_URL: printed into every signed transcript, for good ----------------------------------


def without(env: dict, name: str) -> dict:
    return {k: v for k, v in env.items() if k != name}


def test_production_refuses_to_start_without_site_url():
    result = run_manage("check", env=without(PROD_ENV, "SITE_URL"))
    assert result.returncode != 0
    assert "SITE_URL is required when DEBUG is off" in result.stderr


def test_production_refuses_to_start_with_a_site_url_on_this_machine():
    result = run_manage("check", env={**PROD_ENV, "SITE_URL": "http://127.0.0.1:8000"})
    assert result.returncode != 0
    assert "SITE_URL='http://127.0.0.1:8000' points at this machine" in result.stderr


def test_make_serve_prod_starts_with_its_site_url():
    """scripts/serve-prod.sh (DEBUG off, on 127.0.0.1 only) is a trial on this machine."""
    script = (ROOT / "scripts" / "serve-prod.sh").read_text()
    hosts = re.search(r'ALLOWED_HOSTS="([^"]+)"', script)[1]
    site_url = re.search(r'SITE_URL="([^"]+)"', script)[1].replace("$PORT", "8000")
    env = {**PROD_ENV, "ALLOWED_HOSTS": hosts, "SITE_URL": site_url}
    result = run_manage("check", env=env)
    assert result.returncode == 0, result.stderr


def test_check_deploy_warns_about_a_site_url_without_https():
    env = {**PROD_ENV, "SITE_URL": "http://sodiem.example.edu.vn"}
    result = run_manage("check", "--deploy", "--fail-level", "WARNING", env=env)
    assert result.returncode != 0
    assert "(sodiem.W001) SITE_URL='http://sodiem.example.edu.vn' is not an https://" in (
        result.stderr
    )


@pytest.mark.parametrize(
    ("url", "debug", "hosts", "problem"),
    [
        (None, True, [], None),  # make run: the default http://127.0.0.1:8000
        ("http://127.0.0.1:8000", True, [], None),
        (None, False, ["hocba.vn"], "SITE_URL is required"),
        ("  ", False, ["hocba.vn"], "SITE_URL is required"),
        ("https://hocba.vn", False, ["hocba.vn"], None),
        ("https://hocba.vn/so-diem/", False, ["hocba.vn"], None),
        ("http://localhost:8000", False, ["hocba.vn"], "points at this machine"),
        ("http://[::1]:8000", False, ["hocba.vn"], "points at this machine"),
        ("http://0.0.0.0", False, ["hocba.vn"], "points at this machine"),
        ("https://demo.localhost", False, ["hocba.vn", "localhost"], "points at this machine"),
        ("http://127.0.0.1:8000", False, ["127.0.0.1", "localhost", "[::1]"], None),
        ("http://127.0.0.1:8000", False, ["*"], "points at this machine"),
        ("http://127.0.0.1:8000", False, [], "points at this machine"),
        ("hocba.vn", True, [], "must be an absolute http(s) URL"),
        ("ftp://hocba.vn", False, ["hocba.vn"], "must be an absolute http(s) URL"),
        ("https://hocba.vn/?a=1", False, ["hocba.vn"], "must not have a query"),
    ],
)
def test_site_url_rule(url, debug, hosts, problem):
    found = site_url_problem(url, debug=debug, allowed_hosts=hosts)
    assert (found is None) if problem is None else (problem in found), found


@pytest.mark.parametrize(
    ("host", "loopback"),
    [("localhost", True), ("LOCALHOST.", True), (".localhost", True), ("127.8.0.1", True),
     ("[::1]", True), ("::", True), ("hocba.vn", False), ("10.0.0.5", False), ("*", False),
     ("localhost.hocba.vn", False)],
)  # fmt: skip
def test_loopback_hosts(host, loopback):
    assert is_loopback_host(host) is loopback
