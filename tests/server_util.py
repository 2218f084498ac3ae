"""Running ``xueji-policy serve`` as a real subprocess on 127.0.0.1 for the HTTP and page tests.

``Server`` starts ``python -m xueji_policy serve --port <free port> --rules <dir> [extra…]``
with its output in a log file (never in the test's captured output), waits for ``/readyz``
and stops it (SIGTERM, then SIGKILL).  ``start_all`` starts several at once and waits for
all of them, so the start-up times overlap.
"""

from __future__ import annotations

import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"
RULES = ROOT / "rules"

# Every server started by this process, stopped at exit whatever happens to the fixtures.
_RUNNING: list[Server] = []


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def copy_rules(dest: Path) -> Path:
    """A private copy of the shipped rules/ (the servers edit and reload it)."""
    shutil.copytree(RULES, dest)
    return dest


def example(name: str) -> dict:
    return json.loads((EXAMPLES / f"{name}.json").read_text(encoding="utf-8"))


def examples() -> dict[str, dict]:
    return {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in sorted(EXAMPLES.glob("*.json"))}


class ServerFailed(RuntimeError):
    pass


TOKEN_ENV = "XUEJI_POLICY_ADMIN_TOKEN"


class Server:
    def __init__(self, rules: Path, log: Path, *extra: str, env: dict[str, str] | None = None):
        self.rules = Path(rules)
        self.log_path = Path(log)
        self.extra = [str(x) for x in extra]
        self.env = dict(env or {})
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.proc: subprocess.Popen | None = None
        self._log = None

    # ------------------------------------------------------------------ lifecycle

    def start(self) -> Server:
        self._log = open(self.log_path, "wb")
        cmd = [sys.executable, "-m", "xueji_policy", "serve", "--host", "127.0.0.1", "--port", str(self.port),
               "--rules", str(self.rules), *self.extra]
        # The developer's own admin token must not change what the tests see.
        env = {**{k: v for k, v in os.environ.items() if k != TOKEN_ENV}, "PYTHONUNBUFFERED": "1", **self.env}
        self.proc = subprocess.Popen(cmd, stdout=self._log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                     env=env, cwd=str(self.rules.parent))
        _RUNNING.append(self)
        return self

    def wait_ready(self, timeout: float = 90.0) -> Server:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise ServerFailed(f"server exited with {self.proc.returncode}:\n{self.log_tail()}")
            try:
                r = httpx.get(self.url + "/readyz", timeout=1.0)
                if r.status_code == 200 and r.json().get("status") == "ready":
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.05)
        self.stop()
        raise ServerFailed(f"server not ready after {timeout} s:\n{self.log_tail()}")

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=10)
        if self._log is not None:
            self._log.close()
            self._log = None
        if self in _RUNNING:
            _RUNNING.remove(self)

    def log_tail(self, n: int = 4000) -> str:
        try:
            return self.log_path.read_text(encoding="utf-8", errors="replace")[-n:]
        except OSError:
            return ""

    # ------------------------------------------------------------------ helpers

    def client(self, **kw) -> httpx.Client:
        """A client that sends JSON bodies as JSON (the service refuses bodies of other types)."""
        headers = {"content-type": "application/json", **kw.pop("headers", {})}
        return httpx.Client(base_url=self.url, timeout=kw.pop("timeout", 30.0), headers=headers, **kw)

    def admin(self, **kw) -> httpx.Client:
        """A client that sends the server's admin token."""
        token = self.env[TOKEN_ENV]
        return self.client(headers={"authorization": f"Bearer {token}", **kw.pop("headers", {})}, **kw)

    def sha256(self) -> str:
        return httpx.get(self.url + "/readyz", timeout=10).json()["sha256"]


def start_all(*servers: Server, timeout: float = 90.0) -> None:
    """Start every server, then wait for every one (start-up in parallel); stop them all on failure."""
    try:
        for s in servers:
            s.start()
        for s in servers:
            s.wait_ready(timeout)
    except BaseException:
        for s in servers:
            s.stop()
        raise


def stop_all(*servers: Server) -> None:
    for s in servers:
        s.stop()


def _stop_leftovers() -> None:  # pragma: no cover - only when a run is interrupted
    for s in list(_RUNNING):
        try:
            s.stop()
        except Exception:
            pass


atexit.register(_stop_leftovers)
