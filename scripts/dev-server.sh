#!/usr/bin/env bash
# `make run`'s last step: the task worker (background jobs: confirm, sign, seal) and the
# development server together; Ctrl-C stops both.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
"$PY" manage.py db_worker --no-startup-delay -v 0 &
worker=$!
trap 'kill "$worker" 2>/dev/null || true' EXIT INT TERM
echo "Task worker started (pid $worker)."
echo "Serving on http://127.0.0.1:8000  (Ctrl-C to stop)"
"$PY" manage.py runserver 127.0.0.1:8000
