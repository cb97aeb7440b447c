"""Cell saves through the cluster (issue 19): `scripts/serve-cluster.sh` started here (HAProxy,
two application instances, PgBouncer in transaction mode, Redis, the object store), then the
load of `load_saves.py` through the balancer's port with both instances, then with one (instance
b stopped: its process group gets TERM, as a machine going away), in the same run.

    DEBUG=1 .venv/bin/python bench/cluster_saves.py --teachers 20 --duration 20

The cluster runs on its own PostgreSQL database (--database, created by the script, dropped at
the end unless --keep) and Redis databases 4 and 5 (emptied at the end); WEB_WORKERS and
TASK_WORKERS per instance as the script's defaults unless given. For each phase: saves/s (flat
out unless --rate), latency, errors, which instances answered, CPU per save, and the integrity
check of `load_saves.py` (every acknowledged save in the database and the ledger exactly
once). Not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

import load_saves
from common import ROOT, environment

POSTGRES = "postgres://postgres@127.0.0.1:5432"


def arguments() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--teachers", type=int, default=20)
    parser.add_argument("--students", type=int, default=45)
    parser.add_argument("--rate", type=float, default=0, help="saves/s in all; 0 = flat out")
    parser.add_argument("--duration", type=float, default=20, help="seconds measured per phase")
    parser.add_argument("--warmup", type=float, default=5, help="seconds first, not counted")
    parser.add_argument("--database", default="sodiem_cluster_bench")
    parser.add_argument("--pooler", choices=["pgbouncer", "none"], default="pgbouncer")
    parser.add_argument("--keep", action="store_true", help="keep the database afterwards")
    return parser.parse_args()


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_cluster(args: argparse.Namespace, run_dir: Path) -> tuple[subprocess.Popen, dict]:
    env = {
        **os.environ,
        "PY": sys.executable,
        "PORT": str(free_port()),
        "CLUSTER_DIR": str(run_dir),
        "DATABASE_URL": f"{POSTGRES}/{args.database}",
        "POOLER": args.pooler,
        "REDIS_URL": "redis://127.0.0.1:6379/4",
        "CACHE_REDIS_URL": "redis://127.0.0.1:6379/5",
        "SEED": "0",
        "STATIC_PRECOMPRESS": "0",
    }
    env.pop("DEBUG", None)
    log = run_dir.parent / "serve-cluster.log"
    script = subprocess.Popen(  # noqa: S603 — the project's own script
        ["/bin/bash", str(ROOT / "scripts" / "serve-cluster.sh")],
        cwd=ROOT,
        env=env,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    deadline = time.monotonic() + 180
    while "Cluster ready" not in log.read_text():
        if script.poll() is not None or time.monotonic() > deadline:
            stop_cluster(script, run_dir)
            raise SystemExit(f"serve-cluster.sh did not start:\n{log.read_text()}")
        time.sleep(0.5)
    return script, json.loads((run_dir / "cluster.json").read_text())


def stop_cluster(script: subprocess.Popen, run_dir: Path) -> None:
    if script.poll() is None:
        os.killpg(script.pid, signal.SIGTERM)
        try:
            script.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(script.pid, signal.SIGKILL)
    pgids = run_dir / "pgids"
    for pgid in pgids.read_text().split() if pgids.exists() else []:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(int(pgid), signal.SIGKILL)


def cpu_seconds(database: str, run_dir: Path) -> dict[str, float]:
    """load_saves' CPU counts (gunicorn of both instances, PostgreSQL, the generator), and the
    balancer's and the pooler's."""
    totals = load_saves.cpu_seconds(database)
    tick = os.sysconf("SC_CLK_TCK")
    for name in ("haproxy", "pgbouncer"):
        totals[name] = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            cmdline = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        for name in ("haproxy", "pgbouncer"):
            if name in cmdline.split(" ", 1)[0] and str(run_dir) in cmdline:
                totals[name] += (int(fields[11]) + int(fields[12])) / tick
    return totals


def phase(label: str, teachers, info: dict, password: str, args) -> dict:
    """One measured load through the balancer; the instances that answered, from X-Instance
    (sampled by a GET per teacher after the load: the saves' client reads no headers)."""
    for teacher in teachers:
        teacher.acks.clear()
        teacher.latencies.clear()
        teacher.errors.clear()
    after = load_saves.ledger_position()
    run_dir = Path(info["instances"]["a"]["dir"]).parent
    cpu = {"take": lambda: (time.perf_counter(), cpu_seconds(args.database, run_dir))}
    counted_from, _ = asyncio.run(
        load_saves.run_load(
            teachers, info["url"], password, args.rate, args.warmup, args.duration, cpu
        )
    )
    (started, before), (ended, later) = cpu["before"], cpu["after"]
    ms = [took * 1000 for t in teachers for sent, took in t.latencies if sent >= counted_from]
    errors = sum((t.errors for t in teachers), Counter())
    requests = sum(len(t.latencies) for t in teachers)
    used = {name: later[name] - before[name] for name in later}
    problems = load_saves.check(teachers, after)
    result = {
        "label": label,
        "saves/s": len(ms) / args.duration,
        "median": statistics.median(ms) if ms else 0,
        "p95": load_saves.pct(ms, 0.95) if ms else 0,
        "errors": dict(errors),
        "cpu_ms": {k: 1000 * v / max(requests, 1) for k, v in used.items()},
        "acked": sum(len(t.acks) for t in teachers),
        "problems": problems,
        "wall": ended - started,
    }
    print(
        f"{label}: {result['saves/s']:.1f} saves/s, median {result['median']:.1f} ms, "
        f"p95 {result['p95']:.1f} ms, errors {dict(errors) or 0}; CPU per save "
        + ", ".join(f"{k} {v:.2f} ms" for k, v in result["cpu_ms"].items())
        + (
            f"; integrity: {len(problems)} problems: {problems[:5]}"
            if problems
            else f"; integrity: all {result['acked']} acknowledged saves in the ledger once"
        )
    )
    return result


def answering(url: str, count: int = 10) -> Counter:
    import urllib.request

    seen: Counter = Counter()
    for _ in range(count):
        with urllib.request.urlopen(f"{url}/accounts/login/", timeout=10) as response:  # noqa: S310
            seen[response.headers.get("X-Instance")] += 1
    return seen


def main() -> int:
    args = arguments()
    run_dir = Path(tempfile.mkdtemp(prefix="sodiem-cluster-bench-")) / "run"
    script, info = start_cluster(args, run_dir)
    try:
        os.environ["SECRET_KEY"] = (run_dir / "config" / "secret-key").read_text().strip()
        load_saves.setup_django(info["direct_database_url"])
        password = "cluster-bench-" + os.urandom(6).hex()
        load_saves.SESSIONS = run_dir / "sessions.json"  # this run's database: new sessions
        teachers = load_saves.prepare(args.teachers, args.students, password, new_password=True)
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
        print(environment())
        print(
            f"cluster {info['url']}: instances {sorted(info['instances'])}, pooler "
            f"{args.pooler}; {args.teachers} teachers, rate "
            f"{'flat out' if not args.rate else f'{args.rate:g}/s'}, "
            f"{args.warmup:g} s warm-up + {args.duration:g} s measured per phase"
        )
        print(f"answering before: {dict(answering(info['url']))}")
        two = phase("2 instances", teachers, info, password, args)
        os.killpg(info["instances"]["b"]["pgid"], signal.SIGTERM)  # machine b goes away
        time.sleep(3)  # HAProxy's health check marks it down (2 failed checks, 1 s apart)
        print(f"answering after b stopped: {dict(answering(info['url']))}")
        one = phase("1 instance", teachers, info, password, args)
        print(
            f"one vs two instances: {one['saves/s']:.1f} vs {two['saves/s']:.1f} saves/s "
            f"({two['saves/s'] / max(one['saves/s'], 0.1):.2f}×)"
        )
        return 1 if one["problems"] or two["problems"] else 0
    finally:
        stop_cluster(script, run_dir)
        import redis

        for number in (4, 5):  # the run's queue, cache and sessions
            redis.Redis(db=number).flushdb()
        if not args.keep:
            import psycopg

            with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{args.database}" WITH (FORCE)')


if __name__ == "__main__":
    raise SystemExit(main())
