"""Tasks are enqueued by their dotted name (transcripts/background.py), so that nothing imports
transcripts/tasks.py: every such name written in the code must name a task."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from transcripts import background

ROOT = Path(__file__).resolve().parents[2]
NAME = re.compile(r"[\"']([a-z_]+\.tasks\.[a-z_]+)[\"']")


def task_names_in_code() -> set[str]:
    names = set()
    for app in ("accounts", "schools", "gradebook", "transcripts"):
        for path in (ROOT / app).rglob("*.py"):
            names.update(NAME.findall(path.read_text(encoding="utf-8")))
    return names


def test_the_code_enqueues_tasks_by_name():
    assert {
        "transcripts.tasks.run_transcript_job",
        "transcripts.tasks.poll_signing_batch",
        "transcripts.tasks.run_package_export",
        "transcripts.tasks.run_package_upload",
        "transcripts.tasks.run_package_verification",
    } <= task_names_in_code()


@pytest.mark.parametrize("name", sorted(task_names_in_code()))
def test_every_task_name_in_the_code_names_a_task(name):
    assert background.task_named(name).name


def test_a_name_that_is_not_a_task_is_refused():
    with pytest.raises(TypeError, match="is not a task"):
        background.task_named("transcripts.background.task_named")
    with pytest.raises(ImportError):
        background.task_named("transcripts.tasks.no_such_task")
