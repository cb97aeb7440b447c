#!/usr/bin/env bash
# `make serve-cluster`: several application machines, shown on this one. Two (INSTANCES)
# independent application instances — each its own gunicorn process group and RQ workers, its
# own working directory, MEDIA_ROOT and static files (no local disk shared between them) —
# behind HAProxy on one port, sharing what a province's deployment shares: PostgreSQL (through
# PgBouncer in transaction mode), Redis (cache, sessions, the RQ queue) and the object store
# (a moto S3 server on 127.0.0.1 when no real one is configured). docs/scaling.md.
#
# Settings (environment):
#   PORT (8000)            the balancer's port; the instances, PgBouncer and moto take free ports
#   INSTANCES (2)          how many application instances (named a, b, c, …)
#   WEB_WORKERS (2)        gunicorn sync workers per instance; TASK_WORKERS (1) RQ workers per
#                          instance
#   DATABASE_URL           the real PostgreSQL (postgres://postgres@127.0.0.1:5432/sodiem_cluster,
#                          created if missing); the instances reach it through PgBouncer
#   POOLER (pgbouncer)     pgbouncer: a PgBouncer started here, transaction mode, on a free port
#                          (DATABASE_POOLER=pgbouncer for the application); none: direct
#   REDIS_URL, CACHE_REDIS_URL, CACHE_KEY_PREFIX   the RQ queue (redis://127.0.0.1:6379/2), the
#                          cache and sessions (…/3), the cache's key prefix (sodiem-cluster)
#   OBJECT_STORAGE_*       a real object store (docs/deployment.md); unset: moto on 127.0.0.1
#   SEED (1)               1: the demo schools and demo certificates; 0: nothing (a test seeds)
#   SECRET_KEY             shared by every instance; default: generated once into
#                          CLUSTER_DIR/secret-key
#   SIGNING_TRUST_ANCHORS  default with SEED=1: the demo CA (copied to each instance)
#   STATIC_PRECOMPRESS (1) 0: static files are not compressed ahead (collectstatic takes ~1 s
#                          instead of ~30 s; the cluster test sets it)
#   CLUSTER_DIR (var/cluster)  the run directory: one working directory per instance, the
#                          generated PgBouncer and HAProxy configurations, logs; made anew
#   STOP_GRACE_SECONDS (10)
#
# When everything answers through the balancer it prints "Cluster ready" and writes
# CLUSTER_DIR/cluster.json: the ports, each instance's process group (`kill -TERM -PGID` stops
# that instance: a machine going away), the database and Redis URLs. Ctrl-C (or TERM / HUP to
# this script) stops every process group it started: TERM, then KILL after STOP_GRACE_SECONDS.
set -euo pipefail
set -m
ROOT="$(cd "$(dirname "$0")/.." && pwd)"
cd "$ROOT"
PY="${PY:-.venv/bin/python}"
PY="$(cd "$(dirname "$PY")" && pwd)/$(basename "$PY")"
PORT="${PORT:-8000}"
INSTANCES="${INSTANCES:-2}"
WEB_WORKERS="${WEB_WORKERS:-2}"
TASK_WORKERS="${TASK_WORKERS:-1}"
POOLER="${POOLER:-pgbouncer}"
CLUSTER_DIR="${CLUSTER_DIR:-$ROOT/var/cluster}"
STOP_GRACE_SECONDS="${STOP_GRACE_SECONDS:-10}"
export DATABASE_URL="${DATABASE_URL:-postgres://postgres@127.0.0.1:5432/sodiem_cluster}"
export REDIS_URL="${REDIS_URL:-redis://127.0.0.1:6379/2}"
export CACHE_REDIS_URL="${CACHE_REDIS_URL:-redis://127.0.0.1:6379/3}"
export CACHE_KEY_PREFIX="${CACHE_KEY_PREFIX:-sodiem-cluster}"
case "$DATABASE_URL" in
  postgres://*|postgresql://*) ;;
  *) echo "serve-cluster runs on PostgreSQL: DATABASE_URL must be postgres://… (got $DATABASE_URL)" >&2; exit 2 ;;
esac
case "$POOLER" in pgbouncer|none) ;; *) echo "POOLER must be pgbouncer or none" >&2; exit 2 ;; esac
need() {  # a Debian program, where Debian puts it (/usr/sbin is not on every PATH)
  local found
  found="$(command -v "$1" || true)"
  [ -n "$found" ] || { [ -x "/usr/sbin/$1" ] && found="/usr/sbin/$1"; }
  [ -n "$found" ] || { echo "$1 is missing: run scripts/system-deps.sh (apt-get install $1)" >&2; exit 1; }
  echo "$found"
}
HAPROXY="$(need haproxy)"

pids=()  # process groups started here
running() {
  local pid
  for pid in "${pids[@]}"; do kill -0 -- "-$pid" 2>/dev/null && return 0; done
  return 1
}
stop() {
  trap - EXIT INT TERM HUP
  trap '' PIPE  # whoever read our output may be gone: stop the groups all the same
  [ "${#pids[@]}" -gt 0 ] || return 0
  local pid
  for pid in "${pids[@]}"; do kill -TERM -- "-$pid" 2>/dev/null || true; done
  for _ in $(seq 1 $((STOP_GRACE_SECONDS * 5))); do
    running || return 0
    sleep 0.2
  done
  echo "Stopping what is left with KILL." 2>/dev/null || true
  for pid in "${pids[@]}"; do kill -KILL -- "-$pid" 2>/dev/null || true; done
}
trap stop EXIT
trap 'exit 130' INT
trap 'exit 143' TERM HUP

free_port() {
  "$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])'
}
wait_http() {  # URL, seconds, what: until it answers (any status)
  "$PY" - "$1" "$2" "$3" <<'EOF'
import sys, time, urllib.error, urllib.request
url, seconds, what = sys.argv[1], float(sys.argv[2]), sys.argv[3]
deadline = time.monotonic() + seconds
while True:
    try:
        urllib.request.urlopen(url, timeout=2)
        break
    except urllib.error.HTTPError:
        break
    except OSError:
        if time.monotonic() > deadline:
            sys.exit(f"{what} did not answer at {url} within {seconds:g} s")
        time.sleep(0.1)
EOF
}

rm -rf "$CLUSTER_DIR"
mkdir -p "$CLUSTER_DIR/config"
started() {  # the process group just started in the background: stopped at the end
  pids+=("$1")
  echo "$1" >> "$CLUSTER_DIR/pgids"  # (for whoever must clean up after a KILL of this script)
}
echo "Run directory: $CLUSTER_DIR"

# --- PostgreSQL (created if missing) and Redis ---------------------------------------------
"$PY" "$ROOT/scripts/check_services.py" "$REDIS_URL" "$CACHE_REDIS_URL"

# --- Settings every instance shares (each machine of a deployment gets the same) ----------
if [ -z "${SECRET_KEY:-}" ]; then
  (umask 077 && "$PY" -c "import secrets; print(secrets.token_urlsafe(64))" > "$CLUSTER_DIR/config/secret-key")
  SECRET_KEY="$(cat "$CLUSTER_DIR/config/secret-key")"
fi
export SECRET_KEY DEBUG=0 ALLOWED_HOSTS="127.0.0.1,localhost" SITE_URL="http://127.0.0.1:$PORT"
export SECURE_SSL_REDIRECT=0 SESSION_COOKIE_SECURE=0 CSRF_COOKIE_SECURE=0 SECURE_HSTS_SECONDS=0
export BEHIND_TLS_PROXY=0 DATABASE_CONN_MAX_AGE=60 TASKS_BACKEND=rq CACHE_BACKEND=redis
export LOG_LEVEL="${LOG_LEVEL:-WARNING}" PROVINCE_UPLOAD_HOSTS="${PROVINCE_UPLOAD_HOSTS-127.0.0.1,localhost}"
export STATIC_PRECOMPRESS="${STATIC_PRECOMPRESS:-1}"
# The ledger checkpoints' key: one key, a copy on every machine (docs/deployment.md).
"$PY" - "$CLUSTER_DIR/config/ledger-checkpoint-key.pem" <<'EOF'
import os, sys
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
pem = Ed25519PrivateKey.generate().private_bytes(
    serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
fd = os.open(sys.argv[1], os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
os.write(fd, pem)
os.close(fd)
EOF

# --- The object store: the configured one, or moto on 127.0.0.1 -----------------------------
if [ -z "${OBJECT_STORAGE_BUCKET:-}" ]; then
  MOTO_PORT="$(free_port)"
  "$PY" -m moto.server -H 127.0.0.1 -p "$MOTO_PORT" > "$CLUSTER_DIR/moto.log" 2>&1 &
  started $!
  export OBJECT_STORAGE_BUCKET=sodiem-cluster OBJECT_STORAGE_ENDPOINT_URL="http://127.0.0.1:$MOTO_PORT"
  export OBJECT_STORAGE_ACCESS_KEY_ID=cluster OBJECT_STORAGE_SECRET_ACCESS_KEY=cluster-secret
  export OBJECT_STORAGE_REGION=us-east-1
  wait_http "$OBJECT_STORAGE_ENDPOINT_URL/" 30 "the moto S3 server"
  "$PY" - <<'EOF'
import os, boto3
boto3.client(
    "s3", endpoint_url=os.environ["OBJECT_STORAGE_ENDPOINT_URL"], region_name="us-east-1",
    aws_access_key_id=os.environ["OBJECT_STORAGE_ACCESS_KEY_ID"],
    aws_secret_access_key=os.environ["OBJECT_STORAGE_SECRET_ACCESS_KEY"],
).create_bucket(Bucket=os.environ["OBJECT_STORAGE_BUCKET"])
EOF
  echo "Object store: moto S3 server at $OBJECT_STORAGE_ENDPOINT_URL, bucket $OBJECT_STORAGE_BUCKET"
else
  echo "Object store: bucket $OBJECT_STORAGE_BUCKET at ${OBJECT_STORAGE_ENDPOINT_URL:-AWS}"
fi

# --- The schema, static files, demo data: once, as a deployment's release step does ---------
BUILD="$CLUSTER_DIR/build"
mkdir -p "$BUILD"
MEDIA_ROOT="$BUILD/media" "$PY" manage.py migrate --no-input -v 0
STATIC_ROOT="$BUILD/static" "$PY" manage.py collectstatic --no-input -v 0
if [ "${SEED:-1}" = 1 ]; then
  MEDIA_ROOT="$BUILD/media" "$PY" manage.py seed_demo
  MEDIA_ROOT="$BUILD/media" "$PY" manage.py demo_pki --password demo-ky-so --out "$CLUSTER_DIR/config/demo-pki" | tail -1
  export SIGNING_TRUST_ANCHORS="${SIGNING_TRUST_ANCHORS:-$CLUSTER_DIR/config/demo-pki/demo-ca.pem}"
fi

# --- PgBouncer in transaction mode, unprivileged, with a generated configuration -------------
DIRECT_URL="$DATABASE_URL"
if [ "$POOLER" = pgbouncer ]; then
  . "$ROOT/scripts/pgbouncer.sh"
  start_pgbouncer "$CLUSTER_DIR/pgbouncer"  # DATABASE_URL is PgBouncer's from here on
  started "$PGBOUNCER_PID"
  PGB_PID="$PGBOUNCER_PID"
fi

# --- The application instances ----------------------------------------------------------------
names=(a b c d e f g h)
[ "$INSTANCES" -ge 1 ] && [ "$INSTANCES" -le "${#names[@]}" ] || { echo "INSTANCES: 1 to ${#names[@]}" >&2; exit 2; }
instance() {  # NAME PORT: one application machine; runs as its own process group
  local name="$1" port="$2" dir="$CLUSTER_DIR/$1"
  export INSTANCE_NAME="$name" MEDIA_ROOT="$dir/media" STATIC_ROOT="$dir/static"
  export LEDGER_CHECKPOINT_KEY_FILE="$dir/config/ledger-checkpoint-key.pem"
  local i
  for i in $(seq "$TASK_WORKERS"); do
    "$PY" "$ROOT/manage.py" rqworker default --with-scheduler --job-class django_tasks_rq.Job --name "$name-$i-$$" -v 0 \
      >> "$dir/worker.log" 2>&1 &
  done
  # The balancer passes each client's address in the PROXY protocol: REMOTE_ADDR is the
  # client's (the ledger's client address, the login rate limits), not the balancer's.
  "$PY" -m gunicorn config.wsgi:application --pythonpath "$ROOT" --chdir "$dir" \
    --bind "127.0.0.1:$port" --workers "$WEB_WORKERS" --worker-class sync --preload \
    --proxy-protocol auto --proxy-allow-from 127.0.0.1 --control-socket "$dir/gunicorn.ctl" \
    --timeout 60 --graceful-timeout 20 ${GUNICORN_ARGS:-} >> "$dir/web.log" 2>&1 &
  wait
}
declare -A PORTS PGIDS
for index in $(seq 0 $((INSTANCES - 1))); do
  name="${names[$index]}"
  dir="$CLUSTER_DIR/$name"
  mkdir -p "$dir/media" "$dir/config"
  cp -a "$BUILD/static" "$dir/static"  # each machine its own copy of the release
  cp -a "$CLUSTER_DIR/config/ledger-checkpoint-key.pem" "$dir/config/"
  if [ -n "${SIGNING_TRUST_ANCHORS:-}" ]; then  # the CA roots, copied to each machine
    anchors=()
    IFS=, read -ra given <<<"$SIGNING_TRUST_ANCHORS"
    for file in "${given[@]}"; do
      cp "$file" "$dir/config/$(basename "$file")"
      anchors+=("$dir/config/$(basename "$file")")
    done
    instance_anchors="$(IFS=,; echo "${anchors[*]}")"
  else
    instance_anchors=""
  fi
  PORTS[$name]="$(free_port)"
  (cd "$dir" && SIGNING_TRUST_ANCHORS="$instance_anchors" instance "$name" "${PORTS[$name]}") &
  started $!
  PGIDS[$name]=$!
done
for name in "${!PORTS[@]}"; do
  wait_http "http://127.0.0.1:${PORTS[$name]}/accounts/login/" 60 "instance $name" \
    || { tail -20 "$CLUSTER_DIR/$name/web.log" >&2; exit 1; }
done

# --- HAProxy in front, on one port -----------------------------------------------------------
{
  echo "global"
  echo "  maxconn 2000"
  [ "$(id -u)" != 0 ] || { echo "  user nobody"; echo "  group nogroup"; }
  cat <<EOF
defaults
  mode http
  timeout connect 2s
  timeout client 60s
  timeout server 60s
  # A health check may wait for a busy worker: a slow answer is not a dead machine.
  timeout check 5s
  # A machine that refuses the connection (stopped, restarting): the request goes to another.
  # Only connection failures are retried: a save the application may have received is never
  # sent twice.
  retries 3
  option redispatch 1
frontend web
  bind 127.0.0.1:$PORT
  default_backend app
backend app
  balance roundrobin
  option httpchk
  http-check send meth GET uri /accounts/login/ ver HTTP/1.1 hdr Host 127.0.0.1
  http-check expect status 200
  default-server check inter 1s fall 3 rise 1 send-proxy-v2 check-send-proxy
  # X-Cluster-Instance: NAME sends a request to that instance (the cluster test's "through
  # instance a"); not part of a production balancer's configuration.
EOF
  for name in $(printf '%s\n' "${!PORTS[@]}" | sort); do
    echo "  use-server $name if { req.hdr(X-Cluster-Instance) -m str $name }"
  done
  for name in $(printf '%s\n' "${!PORTS[@]}" | sort); do
    echo "  server $name 127.0.0.1:${PORTS[$name]}"
  done
} > "$CLUSTER_DIR/haproxy.cfg"
chmod 644 "$CLUSTER_DIR/haproxy.cfg"
"$HAPROXY" -c -q -f "$CLUSTER_DIR/haproxy.cfg"
"$HAPROXY" -db -f "$CLUSTER_DIR/haproxy.cfg" > "$CLUSTER_DIR/haproxy.log" 2>&1 &
started $!
HAPROXY_PID=$!
wait_http "http://127.0.0.1:$PORT/accounts/login/" 20 "HAProxy" || { cat "$CLUSTER_DIR/haproxy.log" >&2; exit 1; }

"$PY" - "$CLUSTER_DIR/cluster.json" <<EOF
import json, sys
json.dump({
    "url": "http://127.0.0.1:$PORT",
    "instances": {$(for n in "${!PORTS[@]}"; do printf '"%s": {"port": %s, "pgid": %s, "dir": "%s"}, ' "$n" "${PORTS[$n]}" "${PGIDS[$n]}" "$CLUSTER_DIR/$n"; done)},
    "haproxy_pgid": $HAPROXY_PID,
    "pgbouncer_pgid": ${PGB_PID:-None},
    "database_url": "$DATABASE_URL",
    "direct_database_url": "$DIRECT_URL",
    "redis_url": "$REDIS_URL",
    "cache_redis_url": "$CACHE_REDIS_URL",
    "object_storage": "${OBJECT_STORAGE_ENDPOINT_URL:-}/${OBJECT_STORAGE_BUCKET:-}",
}, open(sys.argv[1], "w"), indent=1)
EOF
echo "Instances: $(for n in $(printf '%s\n' "${!PORTS[@]}" | sort); do printf '%s on 127.0.0.1:%s (%s web workers, %s task workers)  ' "$n" "${PORTS[$n]}" "$WEB_WORKERS" "$TASK_WORKERS"; done)"
echo "Cluster ready: http://127.0.0.1:$PORT  (HAProxy; started in $SECONDS s; $CLUSTER_DIR/cluster.json; Ctrl-C to stop)"
wait "$HAPROXY_PID"
