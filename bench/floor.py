"""The floor under the cell save: what one request costs this machine before any gradebook
work, served the way `make serve-prod` serves the product (gunicorn, same worker count,
PostgreSQL, Redis-cached sessions, DEBUG off).

    # after one run of load_saves.py against make serve-prod (its sessions are reused):
    SECRET_KEY="$(cat .prod-secret-key)" .venv/bin/python bench/floor.py

Starts gunicorn on `floor_app:bare` (a WSGI callable answering 12 bytes) and on
`floor_app:django` (the product's application, full middleware stack) in turn, and sends
`--clients` concurrent requests flat out for `--duration` seconds to:

- bare WSGI: gunicorn's own cost per request;
- Django, no session: the middleware stack alone;
- Django, with a teacher's session: session and user read, as every gradebook request does.

Prints requests/s, median/p95 latency and the CPU per request of gunicorn + PostgreSQL (from
/proc), and the ceiling that implies on this machine. Compare with load_saves.py's CPU per save.
Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

from load_saves import SESSIONS, cpu_seconds, pct

ROOT = Path(__file__).resolve().parent.parent


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--port", type=int, default=8199)
    parser.add_argument("--workers", type=int, default=2 * (os.cpu_count() or 1) + 1)
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--duration", type=float, default=10)
    parser.add_argument("--database-url", default="postgres://postgres@127.0.0.1:5432/sodiem_prod")
    return parser.parse_args()


def serve(app: str, args: argparse.Namespace) -> subprocess.Popen:
    env = {
        **os.environ,
        "PYTHONPATH": f"{ROOT / 'bench'}:{ROOT}",
        "DATABASE_URL": args.database_url,
        "DEBUG": "0",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SITE_URL": f"http://127.0.0.1:{args.port}",  # required with DEBUG off
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SECURE_HSTS_SECONDS": "0",
        "BEHIND_TLS_PROXY": "0",
        "DATABASE_CONN_MAX_AGE": "60",
        "CACHE_BACKEND": "redis",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{args.port}"]
    command += ["--workers", str(args.workers), "--worker-class", "sync", "--log-level", "warning"]
    process = subprocess.Popen(command, env=env, cwd=ROOT)  # noqa: S603 — our own command
    for _ in range(100):
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{args.port}/floor/anonymous/", timeout=1)
            return process
        except OSError:
            time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"gunicorn {app} did not answer")


async def hammer(url: str, cookies: dict, clients: int, duration: float):
    import aiohttp

    latencies: list[float] = []
    failures = 0

    async def client(cookie: dict) -> None:
        nonlocal failures
        jar = aiohttp.CookieJar(unsafe=True)
        async with aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=1), cookie_jar=jar, cookies=cookie
        ) as session:
            while time.perf_counter() < end:
                sent = time.perf_counter()
                async with session.get(url, allow_redirects=False) as response:
                    await response.read()
                    if response.status != 200:
                        failures += 1
                latencies.append(time.perf_counter() - sent)

    end = time.perf_counter() + duration
    jars = list(cookies.values()) or [{}]
    await asyncio.gather(*(client(jars[i % len(jars)]) for i in range(clients)))
    return latencies, failures


def measure(label: str, app: str, path: str, cookies: dict, args: argparse.Namespace) -> None:
    process = serve(app, args)
    database = args.database_url.rsplit("/", 1)[1]
    try:
        url = f"http://127.0.0.1:{args.port}{path}"
        asyncio.run(hammer(url, cookies, args.clients, 1.0))  # warm-up
        before = time.perf_counter(), cpu_seconds(database)
        latencies, failures = asyncio.run(hammer(url, cookies, args.clients, args.duration))
        after = time.perf_counter(), cpu_seconds(database)
    finally:
        process.terminate()
        process.wait()
    wall = after[0] - before[0]
    server = sum(after[1][k] - before[1][k] for k in ("gunicorn", "postgres"))
    ms = [s * 1000 for s in latencies]
    per = 1000 * server / len(ms)
    print(
        f"{label}: {len(ms) / wall:.0f} requests/s, median {statistics.median(ms):.1f} ms, "
        f"p95 {pct(ms, 0.95):.1f} ms, failures {failures}; server CPU {per:.2f} ms/request "
        f"(ceiling {(os.cpu_count() or 1) * 1000 / per:.0f}/s on {os.cpu_count()} cores, "
        "before the load generator's share)"
    )


def main() -> int:
    args = arguments()
    saved = json.loads(SESSIONS.read_text()) if SESSIONS.exists() else {}
    cookies = {key: {"sessionid": c["sessionid"]} for key, c in saved.items() if "sessionid" in c}
    if not cookies:
        raise SystemExit(f"no teacher sessions in {SESSIONS}: run load_saves.py once first")
    print(
        f"gunicorn {args.workers} sync workers, {args.clients} clients flat out, "
        f"{args.duration:g} s each; {os.cpu_count()} cores; python {sys.version.split()[0]}"
    )
    measure("bare WSGI", "floor_app:bare", "/floor/anonymous/", {}, args)
    measure("Django, no session", "floor_app:django", "/floor/anonymous/", {}, args)
    measure("Django, teacher session", "floor_app:django", "/floor/session/", cookies, args)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
