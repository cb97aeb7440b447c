# PgBouncer (Debian's) in transaction mode in front of the PostgreSQL of DATABASE_URL, for
# `make serve-prod POOLER=pgbouncer` and `make serve-cluster`. Sourced, not run:
#
#   . scripts/pgbouncer.sh
#   start_pgbouncer DIR     # generated configuration and log in DIR; PgBouncer on a free port
#   pids+=("$PGBOUNCER_PID")
#
# Afterwards DATABASE_URL is PgBouncer's (same user and database), DATABASE_POOLER=pgbouncer
# (config/settings.py: prepared statements and server-side cursors off), and DIRECT_DATABASE_URL
# is PostgreSQL itself (migrations run there, not through the pooler). It runs unprivileged:
# started by root it drops to `nobody` once its port is open (PgBouncer refuses to run as root).
# Needs PY (the virtualenv's python).

start_pgbouncer() {
  local dir="$1" bin port
  bin="$(command -v pgbouncer || true)"
  [ -n "$bin" ] || { [ -x /usr/sbin/pgbouncer ] && bin=/usr/sbin/pgbouncer; }
  [ -n "$bin" ] || { echo "pgbouncer is missing: run scripts/system-deps.sh (apt-get install pgbouncer)" >&2; return 1; }
  mkdir -p "$dir"
  port="$("$PY" -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
  local PG_HOST PG_PORT PG_USER PG_PASSWORD PG_NAME
  eval "$("$PY" - <<'EOF'
import os, shlex
from urllib.parse import unquote, urlsplit
url = urlsplit(os.environ["DATABASE_URL"])
for name, value in (("PG_HOST", url.hostname or "127.0.0.1"), ("PG_PORT", url.port or 5432),
                    ("PG_USER", unquote(url.username or "postgres")),
                    ("PG_PASSWORD", unquote(url.password or "")), ("PG_NAME", url.path.lstrip("/"))):
    print(f"{name}={shlex.quote(str(value))}")
EOF
)"
  # Who may connect (PgBouncer needs the list even with trust); clients are on the loopback.
  # PgBouncer logs in to PostgreSQL as the URL says.
  printf '"%s" "%s"\n' "$PG_USER" "$PG_PASSWORD" > "$dir/userlist.txt"
  cat > "$dir/pgbouncer.ini" <<EOF
[databases]
$PG_NAME = host=$PG_HOST port=$PG_PORT dbname=$PG_NAME user=$PG_USER${PG_PASSWORD:+ password=$PG_PASSWORD}

[pgbouncer]
listen_addr = 127.0.0.1
listen_port = $port
unix_socket_dir =
auth_type = trust
auth_file = $dir/userlist.txt
pool_mode = transaction
max_client_conn = 1000
default_pool_size = ${PGBOUNCER_POOL_SIZE:-20}
server_reset_query =
ignore_startup_parameters = extra_float_digits,options
EOF
  chmod 755 "$dir"
  chmod 644 "$dir/pgbouncer.ini"
  chmod 600 "$dir/userlist.txt"
  local as_user=()
  if [ "$(id -u)" = 0 ]; then
    as_user=(-u nobody)
    chown nobody "$dir/userlist.txt"  # read again by PgBouncer on a reload, as nobody
  fi
  "$bin" "${as_user[@]}" "$dir/pgbouncer.ini" > "$dir/pgbouncer.log" 2>&1 &
  PGBOUNCER_PID=$!
  export DIRECT_DATABASE_URL="$DATABASE_URL"
  export DATABASE_URL="postgres://$PG_USER${PG_PASSWORD:+:$PG_PASSWORD}@127.0.0.1:$port/$PG_NAME"
  export DATABASE_POOLER=pgbouncer
  "$PY" - <<'EOF' || { cat "$dir/pgbouncer.log" >&2; kill "$PGBOUNCER_PID" 2>/dev/null; return 1; }
import os, sys, time
import psycopg
deadline = time.monotonic() + 10
while True:
    try:
        psycopg.connect(os.environ["DATABASE_URL"], connect_timeout=2, prepare_threshold=None).close()
        break
    except psycopg.OperationalError as exc:
        if time.monotonic() > deadline:
            sys.exit(f"PgBouncer does not answer: {exc}")
        time.sleep(0.1)
EOF
  echo "PgBouncer $("$bin" --version | head -1 | cut -d' ' -f2) on 127.0.0.1:$port (transaction mode) → $PG_HOST:$PG_PORT/$PG_NAME"
}
