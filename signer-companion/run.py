#!/usr/bin/env python3
"""One command to install and start the Sổ điểm signing companion, on Windows or Linux.

    python run.py --site https://hocba.school.example --lib <the token's PKCS#11 library>

The first run creates a virtual environment in ~/.sodiem-companion/venv and installs the
companion from this folder into it (this needs the Internet once, for python-pkcs11 and
cryptography); later runs only start it. When this folder changes (a new version), the next run
installs it again. Every option is the companion's own (README.md); run.py adds only
--reinstall. SODIEM_COMPANION_HOME chooses another folder than ~/.sodiem-companion.

Uses nothing but Python's standard library.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import sys
import tempfile
import venv
from pathlib import Path

HERE = Path(__file__).resolve().parent
MIN_PYTHON = (3, 10)
STAMP = "sodiem-companion-installed.txt"


def companion_home() -> Path:
    return Path(os.environ.get("SODIEM_COMPANION_HOME") or Path.home() / ".sodiem-companion")


def venv_python(env_dir: Path) -> Path:
    if os.name == "nt":
        return env_dir / "Scripts" / "python.exe"
    return env_dir / "bin" / "python"


def source_fingerprint() -> str:
    """Changes whenever the companion's source in this folder changes."""
    digest = hashlib.sha256()
    files = [HERE / "pyproject.toml", *sorted((HERE / "sodiem_companion").glob("*.py"))]
    for path in files:
        digest.update(path.name.encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()


def _create_venv(env_dir: Path) -> None:
    try:
        import ensurepip  # noqa: F401 - only to know whether venv can install pip
    except ImportError:
        raise SystemExit(
            "Python này thiếu mô-đun venv/ensurepip. Trên Debian/Ubuntu: "
            "sudo apt-get install python3-venv (this Python cannot create a virtualenv)"
        ) from None
    print(f"Lần chạy đầu: tạo môi trường Python tại {env_dir} …", flush=True)
    if env_dir.exists():
        shutil.rmtree(env_dir)
    venv.EnvBuilder(with_pip=True).create(env_dir)


def ensure_installed(env_dir: Path, *, force: bool = False) -> Path:
    """The virtualenv's Python, with this folder's companion installed in it."""
    python = venv_python(env_dir)
    stamp = env_dir / STAMP
    wanted = source_fingerprint()
    if not force and python.exists() and stamp.exists() and stamp.read_text().strip() == wanted:
        return python
    if not python.exists():
        _create_venv(env_dir)
    print("Đang cài chương trình ký số (cần Internet lần này) …", flush=True)
    with tempfile.TemporaryDirectory(prefix="sodiem-companion-") as temporary:
        # Built from a copy: pip leaves build/ and *.egg-info next to the sources it builds, and
        # this folder may be read-only (a network share, a USB stick).
        source = Path(temporary) / "src"
        source.mkdir()
        for name in ("pyproject.toml", "README.md"):
            shutil.copy2(HERE / name, source / name)
        shutil.copytree(
            HERE / "sodiem_companion",
            source / "sodiem_companion",
            ignore=shutil.ignore_patterns("__pycache__"),
        )
        pip = [str(python), "-m", "pip", "install", "--disable-pip-version-check", "--quiet"]
        # The package itself, again even if its version number did not change; then the
        # dependencies, at the versions pyproject.toml allows.
        subprocess.run([*pip, "--force-reinstall", "--no-deps", str(source)], check=True)  # noqa: S603
        subprocess.run([*pip, str(source)], check=True)  # noqa: S603
    stamp.write_text(wanted)
    return python


def main(argv: list[str]) -> int:
    if sys.version_info < MIN_PYTHON:
        print(f"Cần Python {MIN_PYTHON[0]}.{MIN_PYTHON[1]} trở lên (needs Python 3.10+).")
        return 1
    force = "--reinstall" in argv
    argv = [a for a in argv if a != "--reinstall"]
    env_dir = companion_home() / "venv"
    if not venv_python(env_dir).exists() and {"-h", "--help"} & set(argv):
        print(__doc__)
        return 0
    try:
        python = ensure_installed(env_dir, force=force)
    except (subprocess.CalledProcessError, OSError) as exc:
        print(
            f"Cài đặt không thành công ({exc}). Kiểm tra kết nối Internet rồi chạy lại "
            "với --reinstall. (Installation failed; check the Internet connection.)",
            file=sys.stderr,
        )
        return 1
    command = [str(python), "-m", "sodiem_companion", *argv]
    if os.name != "nt":  # become the companion: signals (Ctrl+C, SIGTERM) reach it directly
        sys.stdout.flush()
        os.execv(command[0], command)  # noqa: S606 - our own virtualenv, our own module
    child = subprocess.Popen(command)  # noqa: S603 - our own virtualenv, our own module
    while True:
        try:
            return child.wait()
        except KeyboardInterrupt:  # Ctrl+C reaches the companion too; wait for it to stop
            continue


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
