#!/usr/bin/env bash
# `make run`'s last step: the test remote-signing services (a CSC service and a "confirm on your
# phone" service, standing in for a CA's, and the demo CA's time-stamping authority and CRL),
# the task worker (background jobs: confirm, sign, seal) and the development server together;
# Ctrl-C stops them all.
set -euo pipefail
PY="${PY:-.venv/bin/python}"
DEMO_SERVICES="${DEMO_SERVICES:-media/demo-signing-services.json}"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true' EXIT INT TERM

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
"$PY" manage.py runserver 127.0.0.1:8000
