#!/usr/bin/env bash
# `make serve-prod`: the application as it is deployed, on this machine — gunicorn with several
# workers, PostgreSQL, static files through WhiteNoise, DEBUG off, Redis for the cache and the
# task queue, RQ task workers. Plain HTTP on 127.0.0.1 (in production a TLS proxy sits in front:
# docs/deployment.md); demo data and demo certificates, as `make run`.
#
# Settings (environment): PORT (8000), WEB_WORKERS (2 × cores + 1), WEB_THREADS (1: sync
# workers), TASK_WORKERS (cores), ACCESS_LOG (- : stdout; empty for none), DATABASE_URL (postgres://postgres@127.0.0.1:5432/sodiem_prod,
# created if missing), SEED (1: create the demo schools; 0 to skip). The SECRET_KEY is generated
# once into .prod-secret-key (git-ignored). POOLER (none; pgbouncer: the application reaches
# PostgreSQL through PgBouncer in transaction mode, started here unprivileged on a free port with
# a configuration generated into media-prod/pgbouncer/ — scripts/pgbouncer.sh; migrations run
# directly). Ctrl-C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."
PY="${PY:-.venv/bin/python}"
CORES="$(nproc)"
PORT="${PORT:-8000}"
WEB_WORKERS="${WEB_WORKERS:-$((2 * CORES + 1))}"
WEB_THREADS="${WEB_THREADS:-1}"
ACCESS_LOG="${ACCESS_LOG--}"
TASK_WORKERS="${TASK_WORKERS:-$CORES}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sodiem_prod}"

case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "serve-prod runs on PostgreSQL: DATABASE_URL must be postgres://… (got $DATABASE_URL)" >&2; exit 2 ;;
esac
"$PY" scripts/check_services.py "redis://127.0.0.1:6379/0"

if [ ! -s .prod-secret-key ]; then
  (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(64))" > .prod-secret-key)
fi
export SECRET_KEY="$(cat .prod-secret-key)"
export DEBUG=0 ALLOWED_HOSTS="127.0.0.1,localhost" SITE_URL="http://127.0.0.1:$PORT"
# Plain HTTP on the loopback only: no TLS redirect or secure-only cookies here.
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0
export BEHIND_TLS_PROXY=0 DATABASE_CONN_MAX_AGE=60 TASKS_BACKEND=rq CACHE_BACKEND=redis
export MEDIA_ROOT="${MEDIA_ROOT:-$PWD/media-prod}" LOG_LEVEL="${LOG_LEVEL:-WARNING}"
export SIGNING_TRUST_ANCHORS="$MEDIA_ROOT/demo-pki/demo-ca.pem"
# Uploads go only to the Department's hosts; on this machine, the demo receiver.
export PROVINCE_UPLOAD_HOSTS="${PROVINCE_UPLOAD_HOSTS-127.0.0.1,localhost}"

"$PY" manage.py migrate --no-input -v 0
"$PY" manage.py collectstatic --no-input -v 0
if [ "${SEED:-1}" = 1 ]; then
  "$PY" manage.py seed_demo
  "$PY" manage.py demo_pki --password demo-ky-so | tail -1
fi

pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; wait' EXIT INT TERM
case "${POOLER:-none}" in
  none) ;;
  pgbouncer)
    . scripts/pgbouncer.sh
    start_pgbouncer "$MEDIA_ROOT/pgbouncer"
    pids+=("$PGBOUNCER_PID") ;;
  *) echo "POOLER must be none or pgbouncer (got $POOLER)" >&2; exit 2 ;;
esac
for _ in $(seq "$TASK_WORKERS"); do
  "$PY" manage.py rqworker default --with-scheduler --job-class django_tasks_rq.Job -v 0 &
  pids+=($!)
done
echo "Task workers: $TASK_WORKERS (RQ, Redis). Web: gunicorn, $WEB_WORKERS workers × $WEB_THREADS threads."
echo "Serving on http://127.0.0.1:$PORT  (DEBUG off, $DATABASE_URL; Ctrl-C to stop)"
"$PY" -m gunicorn config.wsgi:application --bind "127.0.0.1:$PORT" \
  --workers "$WEB_WORKERS" --threads "$WEB_THREADS" --worker-class "$([ "$WEB_THREADS" -gt 1 ] && echo gthread || echo sync)" \
  --preload --max-requests 50000 --max-requests-jitter 5000 --timeout 60 --graceful-timeout 20 \
  ${ACCESS_LOG:+--access-logfile "$ACCESS_LOG"} --access-logformat '%(h)s "%(r)s" %(s)s %(b)s %(M)sms' \
  ${GUNICORN_ARGS:-} &
pids+=($!)
wait "${pids[-1]}"
