"""Before a production-like start (scripts/serve-prod.sh, scripts/serve-cluster.sh): create the
PostgreSQL database of DATABASE_URL if it is missing, and check that each Redis URL given as an
argument answers. Exits with a message naming what is unreachable."""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import psycopg
import redis


def ensure_database(database_url: str) -> None:
    url = urlsplit(database_url)
    name = url.path.lstrip("/")
    admin = url._replace(path="/postgres").geturl()
    try:
        with psycopg.connect(admin, autocommit=True, connect_timeout=5) as conn:
            if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone():
                conn.execute(f'CREATE DATABASE "{name}"')
                print(f"created database {name}")
    except psycopg.OperationalError as exc:
        sys.exit(f"PostgreSQL is not reachable at {url.hostname}:{url.port or 5432}: {exc}")


def ping_redis(url: str) -> None:
    try:
        redis.Redis.from_url(url, socket_connect_timeout=3).ping()
    except redis.RedisError as exc:
        hint = "start it (apt-get install redis-server)"
        message = f"Redis is not reachable at {url} ({exc}): {hint}"
        sys.exit(message)


if __name__ == "__main__":
    ensure_database(os.environ["DATABASE_URL"])
    for redis_url in sys.argv[1:]:
        ping_redis(redis_url)
