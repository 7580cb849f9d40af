"""Shared fixtures. ``label_studio`` runs a real Label Studio server for the test session.

Why a real server and not a mock: the things that break in practice -- the config the
server accepts, how it stores predictions, what its JSON export looks like -- are exactly
what a mock would assume. Label Studio lives in its own virtual environment (its pinned
Django stack must not mix with the project's), installed from the pinned, known-good set in
``tests/labelstudio/requirements.txt`` and reused: ``$GHARA_LS_VENV``, default
``~/.cache/ghara/labelstudio-venv``. The venv records the hash of the file it was built from
and is rebuilt from scratch when the file changes, so a cache can never hide drift (an
unpinned install once broke on a new sentry-sdk while a cached venv hid it). It is installed
when missing, never skipped, so CI exercises the same path as a developer machine.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

LS_REQUIREMENTS = Path(__file__).parent / "labelstudio" / "requirements.txt"
#: the annotated articles beside the checkout (../shared), absent on a machine without them
GOLD_DIR = Path(__file__).resolve().parents[2] / "shared" / "data" / "gold"
STARTUP_TIMEOUT_S = 180  # the first start runs all migrations (~30 s); slow CI needs more
INSTALL_TIMEOUT_S = 1800


@dataclass(frozen=True)
class LabelStudioServer:
    url: str
    api_key: str = field(repr=False)
    data_dir: Path
    log_path: Path

    def env(self) -> dict[str, str]:
        """Environment for a CLI subprocess talking to this server."""
        return {**os.environ, "LABEL_STUDIO_URL": self.url, "LABEL_STUDIO_API_KEY": self.api_key}


def label_studio_venv() -> Path:
    return Path(os.environ.get("GHARA_LS_VENV") or Path.home() / ".cache/ghara/labelstudio-venv")


def requirements_hash(requirements: Path = LS_REQUIREMENTS) -> str:
    return hashlib.sha256(requirements.read_bytes()).hexdigest()


def _stamp(venv: Path) -> Path:
    """Where a venv keeps the hash of the requirements file it was built from."""
    return venv / "ghara-requirements.sha256"


def _works(venv: Path, wanted: str) -> bool:
    exe = venv / "bin/label-studio"
    if not exe.exists():
        return False
    try:
        if _stamp(venv).read_text().strip() != wanted:
            return False
    except OSError:
        return False
    check = subprocess.run([str(venv / "bin/python"), "-c", "import label_studio"], capture_output=True)
    return check.returncode == 0


def ensure_label_studio(venv: Path) -> Path:
    """``bin/label-studio`` of ``venv``, built from the pinned requirements when missing or stale.

    A venv built from another version of the requirements file (or by hand, with no stamp) is
    removed and rebuilt. A file lock keeps parallel test runs from installing into the same
    venv at once.
    """
    wanted = requirements_hash()
    venv.parent.mkdir(parents=True, exist_ok=True)
    with open(venv.parent / f".{venv.name}.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if not _works(venv, wanted):
            if venv.exists() and any(venv.iterdir()):
                if not (venv / "pyvenv.cfg").exists():
                    pytest.fail(f"{venv} is not empty and not a virtualenv; point GHARA_LS_VENV elsewhere")
                shutil.rmtree(venv)
            log = venv.parent / f"{venv.name}.install.log"
            with open(log, "w") as out:
                steps = [
                    [sys.executable, "-m", "venv", str(venv)],
                    [str(venv / "bin/python"), "-m", "pip", "install", "--no-deps", "-r", str(LS_REQUIREMENTS)],
                    [str(venv / "bin/python"), "-m", "pip", "check"],
                ]
                for step in steps:
                    out.write(f"$ {' '.join(step)}\n")
                    out.flush()
                    done = subprocess.run(step, stdout=out, stderr=subprocess.STDOUT, timeout=INSTALL_TIMEOUT_S)
                    if done.returncode != 0:
                        pytest.fail(f"installing Label Studio into {venv} failed:\n{_tail(log)}")
            _stamp(venv).write_text(wanted + "\n")
            if not _works(venv, wanted):
                pytest.fail(f"Label Studio installed into {venv} but does not import:\n{_tail(log)}")
    return venv / "bin/label-studio"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _tail(path: Path, lines: int = 60, secret: str | None = None) -> str:
    try:
        text = "\n".join(path.read_text(errors="replace").splitlines()[-lines:])
    except OSError as err:
        return f"(no log: {err})"
    return text.replace(secret, "***") if secret else text


def _ready(url: str, token: str) -> bool:
    """Healthy and accepting the token (the user is created while the server starts)."""
    request = urllib.request.Request(
        f"{url}/api/current-user/whoami", headers={"Authorization": f"Token {token}"}
    )
    try:
        with urllib.request.urlopen(f"{url}/health", timeout=2) as response:
            if response.status != 200:
                return False
        with urllib.request.urlopen(request, timeout=5) as response:
            return response.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _stop(process: subprocess.Popen) -> None:
    """Stop the server and anything it started (it runs in its own process group)."""
    if process.poll() is not None:
        return
    with contextlib.suppress(ProcessLookupError):
        os.killpg(process.pid, signal.SIGTERM)
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=10)


@pytest.fixture(scope="session")
def label_studio(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LabelStudioServer]:
    """A fresh Label Studio on a free port with a throw-away data dir and a random token."""
    exe = ensure_label_studio(label_studio_venv())
    data_dir = tmp_path_factory.mktemp("labelstudio")
    log_path = data_dir / "server.log"
    port = _free_port()
    url = f"http://127.0.0.1:{port}"
    token = secrets.token_hex(20)
    env = {
        **os.environ,
        "LABEL_STUDIO_BASE_DATA_DIR": str(data_dir),
        "LABEL_STUDIO_USERNAME": "ghara-tests@example.com",
        "LABEL_STUDIO_PASSWORD": secrets.token_urlsafe(16),
        "LABEL_STUDIO_USER_TOKEN": token,
        "LABEL_STUDIO_LATEST_VERSION_CHECK": "false",
        # the ML backend under test listens on 127.0.0.1, which Label Studio refuses by default
        "ML_BLOCK_LOCAL_IP": "false",
        "SSRF_PROTECTION_ENABLED": "false",
    }
    for name in ("LABEL_STUDIO_URL", "LABEL_STUDIO_API_KEY", "DJANGO_SETTINGS_MODULE", "VIRTUAL_ENV"):
        env.pop(name, None)
    command = [
        str(exe), "start", "--no-browser", "--internal-host", "127.0.0.1", "--port", str(port),
        "--data-dir", str(data_dir), "--enable-legacy-api-token",
    ]
    with open(log_path, "w") as log:
        process = subprocess.Popen(
            command, env=env, cwd=data_dir, stdout=log, stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL, start_new_session=True,
        )
    try:
        deadline = time.monotonic() + STARTUP_TIMEOUT_S
        while not _ready(url, token):
            if process.poll() is not None:
                pytest.fail(
                    f"Label Studio exited with status {process.returncode} before it was up; "
                    f"log tail:\n{_tail(log_path, secret=token)}"
                )
            if time.monotonic() > deadline:
                pytest.fail(
                    f"Label Studio not ready at {url} (/health, token) after {STARTUP_TIMEOUT_S} s; "
                    f"log tail:\n{_tail(log_path, secret=token)}"
                )
            time.sleep(0.5)
        yield LabelStudioServer(url=url, api_key=token, data_dir=data_dir, log_path=log_path)
    finally:
        _stop(process)


@pytest.fixture
def gold_dir() -> Path:
    """``../shared/data/gold`` (train.json, seeds.json); the test is skipped without it."""
    if not (GOLD_DIR / "train.json").exists():
        pytest.skip("../shared gold data not here")
    return GOLD_DIR
