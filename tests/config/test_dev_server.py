"""Issue 18, finding 9: `make run`'s script (scripts/dev-server.sh) stops every process it
started — the task worker under its autoreloader included — when it is stopped (Ctrl-C, or a
TERM from an editor's stop button).

The script runs with PY pointing at a stand-in for `python manage.py …` that starts no Django:
like Django's autoreloader, the stand-in for the worker and the server is a parent that runs the
real process as its child; its parent leaves on TERM without stopping that child (as a reloader
killed outright does), so only a script that stops the whole process group passes.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

SCRIPT = Path(__file__).resolve().parents[2] / "scripts" / "dev-server.sh"

STAND_IN = """\
import os, signal, subprocess, sys, time
args = sys.argv[1:]
if "--write-config" in args:
    with open(args[args.index("--write-config") + 1], "w") as handle:
        handle.write('{"demo-phone": {}}')
if os.environ.get("STAND_IN_CHILD") != "1" and ("db_worker" in args or "runserver" in args):
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))  # the reloader goes, its child stays
    child = subprocess.Popen([sys.executable, __file__, *args],
                             env={**os.environ, "STAND_IN_CHILD": "1"})
    child.wait()
else:
    while True:
        time.sleep(0.1)
"""


def stand_ins(marker: Path) -> list[int]:
    """The pids of every process still running the stand-in."""
    found = subprocess.run(["pgrep", "-f", str(marker)], capture_output=True, text=True)
    return [int(pid) for pid in found.stdout.split()]


@pytest.fixture
def dev_server(tmp_path):
    marker = tmp_path / "python-stand-in.py"
    marker.write_text(STAND_IN)
    py = tmp_path / "py"
    py.write_text(f'#!/bin/sh\nexec "{sys.executable}" "{marker}" "$@"\n')
    py.chmod(0o755)
    (tmp_path / "media").mkdir()
    env = {**os.environ, "PY": str(py), "DEMO_SERVICES": str(tmp_path / "services.json")}
    process = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    deadline = time.monotonic() + 20
    while len(stand_ins(marker)) < 5 and time.monotonic() < deadline:  # services, 2 × 2
        time.sleep(0.1)
    assert len(stand_ins(marker)) == 5, "the script did not start its processes"
    yield process, marker
    for pid in stand_ins(marker):  # whatever the script left behind (a failed test)
        os.kill(pid, signal.SIGKILL)
    if process.poll() is None:
        process.kill()
    process.communicate()


def gone(process: subprocess.Popen, marker: Path) -> list[int]:
    process.wait(timeout=20)
    deadline = time.monotonic() + 5
    while stand_ins(marker) and time.monotonic() < deadline:
        time.sleep(0.1)
    return stand_ins(marker)


@pytest.mark.parametrize("stop", ["ctrl-c", "term"])
def test_stopping_the_dev_server_stops_the_worker_and_its_children(dev_server, stop):
    process, marker = dev_server
    if stop == "ctrl-c":  # the terminal sends SIGINT to its foreground process group
        os.killpg(process.pid, signal.SIGINT)
    else:
        process.send_signal(signal.SIGTERM)
    assert gone(process, marker) == []
