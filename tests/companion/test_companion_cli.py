"""The companion's command line, and its confirmations on the terminal (--console)."""

from __future__ import annotations

import base64
import dataclasses
import os
import queue
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from sodiem_companion.config import HOST, normalize_origin, parse_args
from sodiem_companion.console import run_console
from sodiem_companion.pkcs11_token import verify_signature
from sodiem_companion.server import create_server

from tests.companion.conftest import (
    COMPANION_DIR,
    PIN,
    SCHOOL,
    SITE,
    SOFTHSM_LIB,
    call,
    digests,
    start_pairing,
    submit,
    wait_signed,
)


def test_site_is_required(capsys):
    with pytest.raises(SystemExit) as exit_info:
        parse_args(["--lib", SOFTHSM_LIB])
    assert exit_info.value.code == 2
    assert "--site" in capsys.readouterr().err


def test_lib_is_required(capsys):
    with pytest.raises(SystemExit):
        parse_args(["--site", SITE])
    assert "--lib" in capsys.readouterr().err


def test_arguments_give_the_config(tmp_path):
    config = parse_args(
        ["--site", "https://Hocba.School.example:443/", "--site", "http://127.0.0.1:8000",
         "--lib", SOFTHSM_LIB, "--token-label", "VNPT", "--port", "9000",
         "--state-dir", str(tmp_path), "--no-browser", "--console"]
    )  # fmt: skip
    assert config.sites == ("https://hocba.school.example", "http://127.0.0.1:8000")
    assert (config.lib, config.token_label, config.port) == (SOFTHSM_LIB, "VNPT", 9000)
    assert config.state_dir == tmp_path
    assert config.open_browser is False and config.console is True


def test_defaults():
    config = parse_args(["--site", SITE, "--lib", SOFTHSM_LIB])
    assert config.port == 8790
    assert config.state_dir == Path.home() / ".sodiem-companion"
    assert config.open_browser is True and config.console is False


@pytest.mark.parametrize(
    "site", ["school.example", "ftp://school.example", "https://school.example/hocba", "https://"]
)
def test_a_site_must_be_an_origin(site, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--site", site, "--lib", SOFTHSM_LIB])
    assert "--site" in capsys.readouterr().err


def test_origins_are_written_as_browsers_send_them():
    assert normalize_origin("HTTP://127.0.0.1:80") == "http://127.0.0.1"
    assert normalize_origin("https://hocba.example:8443/") == "https://hocba.example:8443"


@pytest.mark.parametrize("option", [["--host", "0.0.0.0"], ["--bind", "0.0.0.0"]])  # noqa: S104
def test_there_is_no_way_to_listen_beyond_loopback(option, capsys):
    with pytest.raises(SystemExit):
        parse_args(["--site", SITE, "--lib", SOFTHSM_LIB, *option])
    assert "unrecognized arguments" in capsys.readouterr().err


@pytest.mark.parametrize("port", ["0", "70000", "http"])
def test_port_must_be_a_port(port):
    with pytest.raises(SystemExit):
        parse_args(["--site", SITE, "--lib", SOFTHSM_LIB, "--port", port])


def test_server_binds_127_0_0_1(tmp_path):
    config = parse_args(["--site", SITE, "--lib", SOFTHSM_LIB, "--state-dir", str(tmp_path)])
    server = create_server(dataclasses.replace(config, port=0, open_browser=False))
    try:
        assert HOST == "127.0.0.1"
        assert server.server_address[0] == "127.0.0.1"
        assert server.url.startswith("http://127.0.0.1:")
    finally:
        server.server_close()


def test_a_second_companion_cannot_take_the_same_port(tmp_path):
    config = parse_args(["--site", SITE, "--lib", SOFTHSM_LIB, "--state-dir", str(tmp_path)])
    first = create_server(dataclasses.replace(config, port=0, open_browser=False))
    try:
        taken = dataclasses.replace(config, port=first.server_address[1], open_browser=False)
        with pytest.raises(OSError):
            create_server(taken)
    finally:
        first.server_close()


def test_module_runs_and_explains_itself():
    run = subprocess.run(
        [sys.executable, "-m", "sodiem_companion", "--help"],
        capture_output=True,
        text=True,
        cwd=COMPANION_DIR,
        env=os.environ | {"PYTHONPATH": str(COMPANION_DIR)},
        check=False,
    )
    assert run.returncode == 0, run.stderr
    for option in ("--site", "--lib", "--token-label", "--port", "--no-browser", "--console"):
        assert option in run.stdout


def test_missing_library_stops_with_a_message(tmp_path):
    run = subprocess.run(
        [sys.executable, "-m", "sodiem_companion", "--site", SITE, "--lib",
         str(tmp_path / "nothing.so"), "--state-dir", str(tmp_path), "--no-browser"],
        capture_output=True,
        text=True,
        cwd=COMPANION_DIR,
        env=os.environ | {"PYTHONPATH": str(COMPANION_DIR)},
        check=False,
        timeout=30,
    )  # fmt: skip
    assert run.returncode == 2
    assert "nothing.so" in run.stderr


# --- --console ---------------------------------------------------------------------------------


class Keyboard:
    """The person at the terminal: answers each prompt with the next line given."""

    def __init__(self) -> None:
        self.lines: queue.Queue[str] = queue.Queue()
        self.prompts: list[str] = []

    def __call__(self, prompt: str) -> str:
        self.prompts.append(prompt)
        return self.lines.get(timeout=30)


def test_console_pairs_and_signs(companion, hsm):
    keyboard, pin_pad, said = Keyboard(), Keyboard(), []
    stop = threading.Event()
    console = threading.Thread(
        target=run_console,
        args=(companion.companion,),
        kwargs={"stop": stop, "ask": keyboard, "ask_pin": pin_pad, "say": said.append},
        daemon=True,
    )
    console.start()
    try:
        pairing_id = start_pairing(companion, "QR7TZ4KM")
        keyboard.lines.put("qr7t-z4km")
        token = None
        for _attempt in range(100):
            token = call(companion, "GET", f"/v1/pair/{pairing_id}").json()["token"]
            if token:
                break
            threading.Event().wait(0.05)
        assert token
        assert SITE in keyboard.prompts[0]

        values = digests(3)
        request_id = submit(companion, token, hsm.sha256, values)
        pin_pad.lines.put(PIN)
        state = wait_signed(companion, token, request_id)
    finally:
        stop.set()
        console.join(timeout=5)
    assert state["status"] == "signed"
    assert verify_signature(hsm.certificate, values[0], base64.b64decode(state["signatures"][0]))
    assert pin_pad.prompts[0].startswith(f"Ký 3 tệp cho {SCHOOL}?")
    assert any("1 học bạ, 3 tệp" in line for line in said)
    assert PIN not in "".join(said + keyboard.prompts + pin_pad.prompts)
