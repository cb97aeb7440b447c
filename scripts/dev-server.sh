#!/usr/bin/env bash
# `make run`'s last step: the test remote-signing services (a CSC service and a "confirm on your
# phone" service, standing in for a CA's, and the demo CA's time-stamping authority and CRL),
# the task worker (background jobs: confirm, sign, seal) and the development server together;
# Ctrl-C (or a TERM / HUP to this script) stops them all.
#
# Each process runs in its own process group (job control, `set -m`), and stopping sends TERM
# to the whole group, then KILL to what is left after STOP_GRACE_SECONDS: the worker and the
# server run under Django's autoreloader, and the process doing the work is the reloader's
# child — signalling the reloader alone could leave a worker behind, still taking jobs.
set -euo pipefail
set -m
PY="${PY:-.venv/bin/python}"
DEMO_SERVICES="${DEMO_SERVICES:-media/demo-signing-services.json}"
STOP_GRACE_SECONDS="${STOP_GRACE_SECONDS:-10}"
pids=()

running() {  # whether any process of the groups started here is still alive
  local pid
  for pid in "${pids[@]}"; do
    kill -0 -- "-$pid" 2>/dev/null && return 0
  done
  return 1
}

stop() {
  trap - EXIT INT TERM HUP
  [ "${#pids[@]}" -gt 0 ] || return 0
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 $((STOP_GRACE_SECONDS * 5))); do
    running || return 0
    sleep 0.2
  done
  echo "Stopping what is left with KILL."
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

SIGNING_SERVICES_FILE= "$PY" manage.py signing_test_services --write-config "$DEMO_SERVICES" \
  > media/signing-test-services.log 2>&1 &
pids+=($!)
for _ in $(seq 1 100); do  # the web server reads the services' file when it starts
  grep -q "demo-phone" "$DEMO_SERVICES" 2>/dev/null && break
  sleep 0.2
done
grep -q "demo-phone" "$DEMO_SERVICES" || { cat media/signing-test-services.log; exit 1; }
echo "Test signing services started: the principal's phone is http://127.0.0.1:8782/phone/hieutruong;"
echo "  the demo CA's time-stamps at http://127.0.0.1:8783/tsa (signatures are PAdES B-LTA)"
echo "  (log: media/signing-test-services.log)"

"$PY" manage.py db_worker --no-startup-delay -v 0 &
pids+=($!)
echo "Task worker started (pid ${pids[-1]})."
echo "The school seal is a USB token: run \`make companion\` in a second terminal to sign with it."
echo "Serving on http://127.0.0.1:8000  (Ctrl-C to stop)"
"$PY" manage.py runserver 127.0.0.1:8000 &
pids+=($!)
wait "${pids[-1]}"  # in the background, so that a signal to this script is handled at once
