"""Issue 19, item 3: several application machines, shown on this one. `scripts/serve-cluster.sh`
starts two independent application instances (each its own gunicorn process group, RQ worker,
working directory and MEDIA_ROOT) behind HAProxy, sharing PostgreSQL through PgBouncer
(transaction mode), Redis and the object store (a moto S3 server). Everything below is real
HTTP to the balancer's port.

The cluster always runs on PostgreSQL — its own database, created by the script and dropped at
the end — whatever the suite's DATABASE_URL, and on Redis databases of its own; so this runs in
both legs of CI. The tests share one cluster and run in order: the last one stops instance a.
"""

from __future__ import annotations

import base64
import contextlib
import hashlib
import hmac
import json
import os
import re
import signal
import struct
import subprocess
import sys
import threading
import time
from pathlib import Path

import psycopg
import pytest
import redis
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.serialization import pkcs12

from tests.transcripts.conftest import pki_make_cert

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "serve-cluster.sh"
POSTGRES = "postgres://postgres@127.0.0.1:5432"
PASSWORD = "cum-may-ca-hai"  # the seeded accounts' and the certificate's
START_SECONDS = 90


def free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def empty_redis_databases(count: int) -> list[int]:
    """Redis databases nobody uses: the development stack uses 0 and 1, serve-cluster 2 and 3,
    bench/cluster_saves.py 4 and 5, the job tests 12 to 15 (one per test process)."""
    found = []
    for number in range(11, 5, -1):
        if not redis.Redis(db=number).dbsize():
            found.append(number)
        if len(found) == count:
            return found
    pytest.fail("no empty Redis database for the cluster test")


def totp(secret: str, at: float | None = None) -> str:
    """RFC 6238, as allauth checks it (SHA-1, 30 s, 6 digits)."""
    counter = int((time.time() if at is None else at) // 30)
    key = base64.b32decode(secret + "=" * (-len(secret) % 8))
    digest = hmac.new(key, struct.pack(">Q", counter), hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    number = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return f"{number % 1_000_000:06d}"


def fresh_totp(secret: str) -> str:
    """A code that stays valid until the server reads it (not in a period's last 3 s)."""
    left = 30 - time.time() % 30
    if left < 3:
        time.sleep(left + 0.1)
    return totp(secret)


def kill_groups(pgids: list[int], sig: int) -> None:
    for pgid in pgids:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(pgid, sig)


def credential(tmp_path: Path) -> tuple[Path, Path]:
    """A CA (the instances' trust anchor) and the homeroom teacher's PKCS#12 issued by it."""
    ca_key, ca = pki_make_cert(common_name="Cluster test CA", ca=True)
    key, cert = pki_make_cert(common_name="cl.homeroom", issuer=(ca_key, ca))
    p12 = tmp_path / "homeroom.p12"
    p12.write_bytes(
        pkcs12.serialize_key_and_certificates(
            b"homeroom", key, cert, [ca], serialization.BestAvailableEncryption(PASSWORD.encode())
        )
    )
    ca_pem = tmp_path / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    return ca_pem, p12


class Cluster:
    """The running cluster: its cluster.json, the seeded data, SQL on its database, sessions."""

    def __init__(self, info: dict, seed: dict) -> None:
        self.info, self.seed = info, seed
        self.url = info["url"]
        self.cache = redis.Redis.from_url(info["cache_redis_url"])
        self.queue = redis.Redis.from_url(info["redis_url"])

    def sql(self, query: str, params: tuple = ()) -> list[tuple]:
        with psycopg.connect(self.info["direct_database_url"]) as conn:
            return conn.execute(query, params).fetchall()

    def session(self, username: str, *, secret: str = "") -> requests.Session:
        """Logged in through the login form (and the two-factor step), via the balancer."""
        client = requests.Session()
        page = client.get(f"{self.url}/accounts/login/").text
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
        answer = client.post(
            f"{self.url}/accounts/login/",
            data={"csrfmiddlewaretoken": token, "login": username, "password": PASSWORD},
            headers={"Referer": f"{self.url}/accounts/login/"},
        )
        if "/2fa/" in answer.url:
            token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', answer.text).group(1)
            answer = client.post(
                answer.url,
                data={"csrfmiddlewaretoken": token, "code": fresh_totp(secret)},
                headers={"Referer": answer.url},
            )
        assert answer.status_code == 200 and "/accounts/" not in answer.url, answer.url
        client.headers["X-CSRFToken"] = client.cookies["csrftoken"]
        client.headers["Referer"] = f"{self.url}/"
        return client


def migrated_template() -> str:
    """A database with every migration applied, kept between runs under a name that changes
    with the migrations (older ones are dropped): the cluster's database is a copy, and the
    script's `migrate` finds nothing to do. Migrating afresh takes 7-25 s of the budget."""
    digest = hashlib.sha256()
    for path in sorted(ROOT.glob("*/migrations/*.py")):
        digest.update(path.name.encode() + path.read_bytes())
    name = f"sodiem_cluster_template_{digest.hexdigest()[:16]}"
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        names = [row[0] for row in conn.execute(
            "SELECT datname FROM pg_database WHERE datname LIKE 'sodiem_cluster_template_%%'"
        )]  # fmt: skip
        for old in names:
            if old != name:
                conn.execute(f'DROP DATABASE IF EXISTS "{old}" WITH (FORCE)')
        if name in names:
            return name
        building = f"{name}_{os.getpid()}"
        conn.execute(f'CREATE DATABASE "{building}"')
        migrate = subprocess.run(
            [sys.executable, "manage.py", "migrate", "--no-input", "-v", "0"],
            cwd=ROOT,
            env={**os.environ, "DEBUG": "1", "DATABASE_URL": f"{POSTGRES}/{building}"},
            capture_output=True,
            text=True,
        )
        if migrate.returncode:
            conn.execute(f'DROP DATABASE "{building}"')
            pytest.fail(migrate.stderr)
        conn.execute(f'ALTER DATABASE "{building}" RENAME TO "{name}"')
    return name


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    tmp_path = tmp_path_factory.mktemp("cluster")
    run_dir = tmp_path / "run"
    database = f"sodiem_cluster_test_{os.getpid()}"
    queue_db, cache_db = empty_redis_databases(2)
    ca_pem, p12 = credential(tmp_path)
    secret_key = base64.urlsafe_b64encode(os.urandom(48)).decode()
    with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{database}" TEMPLATE "{migrated_template()}"')
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("OBJECT_STORAGE_", "DJANGO"))},
        "PY": sys.executable,
        "PORT": str(free_port()),
        "CLUSTER_DIR": str(run_dir),
        "DATABASE_URL": f"{POSTGRES}/{database}",
        "REDIS_URL": f"redis://127.0.0.1:6379/{queue_db}",
        "CACHE_REDIS_URL": f"redis://127.0.0.1:6379/{cache_db}",
        "SEED": "0",
        "STATIC_PRECOMPRESS": "0",
        "SECRET_KEY": secret_key,
        "SIGNING_TRUST_ANCHORS": str(ca_pem),
        "STOP_GRACE_SECONDS": "2",  # (nothing to finish: the test is over)
    }
    log = (tmp_path / "serve-cluster.log").open("w")
    script = subprocess.Popen(
        ["bash", str(SCRIPT)],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )

    def output() -> str:
        return (tmp_path / "serve-cluster.log").read_text()

    # The database is migrated already (a copy of the template): seed it while the cluster starts.
    seeding = subprocess.Popen(
        [sys.executable, str(ROOT / "tests" / "cluster" / "seed.py"), str(p12), PASSWORD],
        env={**env, "DEBUG": "1"},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        seed_out, seed_err = seeding.communicate(timeout=START_SECONDS)
        assert seeding.returncode == 0, seed_err
        deadline = time.monotonic() + START_SECONDS
        while "Cluster ready" not in output():
            assert script.poll() is None, f"serve-cluster.sh stopped:\n{output()}"
            assert time.monotonic() < deadline, f"the cluster did not start:\n{output()}"
            time.sleep(0.2)
        info = json.loads((run_dir / "cluster.json").read_text())
        yield Cluster(info, json.loads(seed_out.splitlines()[-1]))
    finally:
        if seeding.poll() is None:
            seeding.kill()
            seeding.wait()
        if script.poll() is None:
            os.killpg(script.pid, signal.SIGTERM)  # the script stops its process groups
            try:
                script.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(script.pid, signal.SIGKILL)
                script.wait()
        pgids_file = run_dir / "pgids"
        if pgids_file.exists():  # whatever it left (it was killed, or a group hung)
            kill_groups([int(line) for line in pgids_file.read_text().split()], signal.SIGKILL)
        log.close()
        with psycopg.connect(f"{POSTGRES}/postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{database}" WITH (FORCE)')
        for number in (queue_db, cache_db):
            redis.Redis(db=number).flushdb()


def cells(seed: dict, student: int) -> list[dict]:
    return [
        {"student": student, "column": column, "value": "", "version": 0}
        for column in seed["columns"]
    ]


def save(client: requests.Session, url: str, cell: dict, value: str) -> requests.Response:
    answer = client.post(url, json={**cell, "value": value}, timeout=30)
    if answer.status_code == 200:
        cell["value"], cell["version"] = answer.json()["value"], answer.json()["version"]
    return answer


def ledger(cluster: Cluster, teacher: int) -> list[tuple[int, str, int, str]]:
    """The teacher's ledger events: (student, column key of term I, version, new value)."""
    rows = cluster.sql(
        "SELECT m.student_id, m.kind, m.slot, e.version, e.new_value FROM gradebook_markevent e "
        "JOIN gradebook_mark m ON m.id = e.mark_id WHERE e.actor_id = %s AND m.term = 1",
        (teacher,),
    )
    return [
        (student, f"1:{kind}:{slot}", version, value)
        for student, kind, slot, version, value in rows
    ]


def test_a_teachers_session_alternates_between_instances_and_saves(cluster):
    seed = cluster.seed
    client = cluster.session(seed["teacher"]["username"])
    url = cluster.url + seed["cell_save"]
    row = cells(seed, seed["students"][1])
    served, saved = [], []
    values = ["7", "8", "6.5", "9", "5", "7.5", "8.5", "6", "9.5", "4"]
    for index, value in enumerate(values):  # two cells, saved in turn
        cell = row[index % 2]
        answer = save(client, url, cell, value)
        assert answer.status_code == 200, answer.text
        served.append(answer.headers["X-Instance"])
        saved.append((seed["students"][1], cell["column"], cell["version"], value))
        if index >= 3 and set(served) == {"a", "b"}:
            break  # round robin; a machine the balancer saw as slow for a moment comes later
    assert set(served) == {"a", "b"}, served  # one session, both machines
    assert [cell["version"] for cell in row[:2]] == [(len(saved) + 1) // 2, len(saved) // 2]
    assert sorted(ledger(cluster, seed["teacher"]["pk"])) == sorted(saved)


def test_a_signing_job_enqueued_through_one_instance_runs_on_the_other(cluster):
    """Instance a's task worker is stopped: the job a's web process enqueues is taken by b's
    worker from the shared queue; b's worker stores the signed PDF in the object store, and a's
    web process serves it (nothing of it on either machine's disk)."""
    seed = cluster.seed
    a = cluster.info["instances"]["a"]

    def workers() -> list[str]:  # a's RQ worker (and its scheduler's process)
        found = subprocess.run(
            ["pgrep", "-g", str(a["pgid"]), "-f", "rqworker"], capture_output=True
        )
        return found.stdout.decode().split()

    assert workers(), "instance a runs no task worker"
    for stop, grace in ((signal.SIGTERM, 15), (signal.SIGKILL, 15)):  # KILL if TERM is slow
        for pid in workers():
            with contextlib.suppress(ProcessLookupError):
                os.kill(int(pid), stop)
        deadline = time.monotonic() + grace
        while workers() and time.monotonic() < deadline:
            time.sleep(0.1)
    assert not workers(), "instance a's task worker did not stop"
    client = cluster.session(seed["homeroom"]["username"], secret=seed["homeroom"]["totp"])
    client.headers["X-Cluster-Instance"] = "a"  # through instance a
    url = cluster.url + seed["class_job"]
    page = client.post(url, data={"steps": "confirm_homeroom"}, timeout=30)
    assert page.status_code == 200 and page.headers["X-Instance"] == "a"
    cluster.cache.flushdb()  # the login's two-factor code may be the current one: a new window
    answer = client.post(
        url,
        data={"steps": "confirm_homeroom", "confirm": "1", "password": PASSWORD,
              "otp": fresh_totp(seed["homeroom"]["totp"])},
        allow_redirects=False,
        timeout=30,
    )  # fmt: skip
    assert answer.status_code == 302 and answer.headers["X-Instance"] == "a", answer.text[-2000:]
    deadline = time.monotonic() + 45
    while True:
        [(job, status, task_id, message)] = cluster.sql(
            "SELECT id, status, task_id, message FROM transcripts_transcriptjob "
            "ORDER BY id DESC LIMIT 1"
        )
        if status not in ("queued", "running", "waiting"):
            break
        assert time.monotonic() < deadline, f"job {job} still {status}"
        time.sleep(0.3)
    assert status == "finished", message
    worker = cluster.queue.hget(f"rq:job:{task_id}", "worker_name")
    assert worker and worker.decode().startswith("b-"), worker

    [(transcript, number, pdf_name)] = cluster.sql(
        "SELECT v.transcript_id, v.number, v.pdf_file FROM transcripts_transcriptversion v "
        "JOIN transcripts_transcript t ON t.id = v.transcript_id WHERE t.state = 'signed_homeroom'"
    )
    download = seed["download"].replace("987654", str(transcript)).replace("123456", str(number))
    pdf = client.get(cluster.url + download, timeout=30)
    assert pdf.status_code == 200 and pdf.headers["X-Instance"] == "a"
    assert pdf.content.startswith(b"%PDF") and b"/ByteRange" in pdf.content  # signed
    for name in ("a", "b"):
        media = Path(cluster.info["instances"][name]["dir"]) / "media"
        assert not [p for p in media.rglob("*") if p.is_file()], f"files on {name}'s disk"
    assert pdf_name  # stored under this name in the object store


def test_stopping_one_instance_during_a_save_burst_loses_no_acknowledged_save(cluster):
    seed = cluster.seed
    url = cluster.url + seed["cell_save"]
    teacher = seed["teacher"]
    before = set(ledger(cluster, teacher["pk"]))
    clients = [cluster.session(teacher["username"]) for _ in range(3)]
    rows = [cells(seed, seed["students"][1])[i::3] for i in range(3)]  # (the other's are signed)
    latest = {
        (student, column): (version, value) for student, column, version, value in sorted(before)
    }
    for row in rows:  # the cells as they stand (the first test saved some)
        for cell in row:
            cell["version"], cell["value"] = latest.get((cell["student"], cell["column"]), (0, ""))
    stop_at = time.monotonic() + 1.5
    end = stop_at + 4
    acks: list[tuple[int, str, int, str]] = []
    served_after: list[str] = []
    failures: list[int] = []

    def burst(client: requests.Session, row: list[dict]) -> None:
        index = 0
        while time.monotonic() < end:
            cell = row[index % len(row)]
            index += 1
            try:
                answer = save(client, url, cell, "7" if cell["value"] == "8" else "8")
            except requests.RequestException:
                failures.append(0)
                continue
            if answer.status_code != 200:
                failures.append(answer.status_code)
                continue
            acks.append((cell["student"], cell["column"], cell["version"], cell["value"]))
            if time.monotonic() > stop_at + 1:
                served_after.append(answer.headers["X-Instance"])

    threads = [
        threading.Thread(target=burst, args=pair) for pair in zip(clients, rows, strict=True)
    ]
    for thread in threads:
        thread.start()
    time.sleep(max(0, stop_at - time.monotonic()))
    os.killpg(cluster.info["instances"]["a"]["pgid"], signal.SIGTERM)  # machine a goes away
    for thread in threads:
        thread.join()

    assert len(acks) > 20, (len(acks), failures)
    assert served_after and set(served_after) == {"b"}, served_after
    events = [e for e in ledger(cluster, teacher["pk"]) if e not in before]
    assert sorted(acks) == sorted(events), "every acknowledged save, once, and nothing else"
    assert len(failures) <= 3, failures  # at most the saves in flight when a stopped
