import os
import subprocess
import sys

import pytest
from django.core.exceptions import ImproperlyConfigured

from config.env import env_bool, env_choice, env_int, env_list

PROD_ENV = {
    "DEBUG": "0",
    "SECRET_KEY": "x" * 64 + "-not-a-real-secret-but-long-and-random-looking-Zq8",
    "ALLOWED_HOSTS": "sodiem.example.edu.vn",
    "DATABASE_URL": "sqlite:////tmp/sodiem-deploy-check.sqlite3",
}


def run_manage(*args: str, env: dict) -> subprocess.CompletedProcess:
    clean = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY")}
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


def test_defaults_are_vietnamese_and_hanoi_time(settings):
    assert settings.LANGUAGE_CODE == "vi"
    assert [code for code, _ in settings.LANGUAGES] == ["vi", "en"]
    assert settings.TIME_ZONE == "Asia/Ho_Chi_Minh"
