"""Issue 19, items 2 and 3: what DATABASE_POOLER=pgbouncer changes in the database settings, and
the X-Instance header of a named application instance."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest
from django.conf import settings

PRINT = (
    "import json, django; django.setup(); from django.conf import settings as s; "
    "d = s.DATABASES['default']; print(json.dumps({'options': d.get('OPTIONS', {}), "
    "'cursors_off': d.get('DISABLE_SERVER_SIDE_CURSORS', False), "
    "'instance': 'config.instance.InstanceHeaderMiddleware' in s.MIDDLEWARE}))"
)
POSTGRES = "postgres://postgres@127.0.0.1:6432/sodiem"


def database_settings(**env: str) -> dict:
    clean = {k: v for k, v in os.environ.items() if not k.startswith(("DATABASE_", "INSTANCE_"))}
    run = subprocess.run(
        [sys.executable, "-c", PRINT],
        env={**clean, "DEBUG": "1", "DJANGO_SETTINGS_MODULE": "config.settings", **env},
        capture_output=True,
        text=True,
    )
    assert run.returncode == 0, run.stderr
    return json.loads(run.stdout.splitlines()[-1])


def test_pgbouncer_turns_off_prepared_statements_and_server_side_cursors():
    found = database_settings(DATABASE_URL=POSTGRES, DATABASE_POOLER="pgbouncer")
    assert found["options"] == {"server_side_binding": False, "prepare_threshold": None}
    assert found["cursors_off"] is True


def test_without_a_pooler_statements_are_prepared_and_cursors_server_side():
    found = database_settings(DATABASE_URL=POSTGRES)
    assert found["options"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert found["cursors_off"] is False


def test_a_pgbouncer_that_keeps_prepared_statements_keeps_them_on():
    """PgBouncer 1.21+ with max_prepared_statements: prepared on, cursors still off."""
    found = database_settings(
        DATABASE_URL=POSTGRES, DATABASE_POOLER="pgbouncer", DATABASE_PREPARED_STATEMENTS="1"
    )
    assert found["options"] == {"server_side_binding": True, "prepare_threshold": 5}
    assert found["cursors_off"] is True


def test_an_unknown_pooler_stops_the_start():
    clean = {k: v for k, v in os.environ.items() if not k.startswith("DATABASE_")}
    run = subprocess.run(
        [sys.executable, "-c", PRINT],
        env={**clean, "DEBUG": "1", "DATABASE_URL": POSTGRES, "DATABASE_POOLER": "pgpool"},
        capture_output=True,
        text=True,
    )
    assert run.returncode != 0 and "DATABASE_POOLER" in run.stderr


def test_the_instance_header_only_when_an_instance_is_named():
    assert database_settings()["instance"] is False
    assert database_settings(INSTANCE_NAME="b")["instance"] is True


@pytest.mark.django_db
def test_a_named_instance_says_which_one_answered(client, settings):
    settings.INSTANCE_NAME = "b"
    settings.MIDDLEWARE = ["config.instance.InstanceHeaderMiddleware", *settings.MIDDLEWARE]
    assert client.get("/accounts/login/")["X-Instance"] == "b"


@pytest.mark.django_db
def test_an_unnamed_instance_sends_no_header(client):
    assert not settings.INSTANCE_NAME
    assert "X-Instance" not in client.get("/accounts/login/")
