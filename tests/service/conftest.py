"""A real Callscope server for service tests: `callscope serve` in a subprocess on a free port.

``server`` starts one per test module (SQLite in a temporary folder unless ``db_url`` is given),
with a known admin token; ``Server.restart(kill=True)`` kills it with SIGKILL and starts it again
on the same data, which is how the restart tests check that nothing accepted is lost.
"""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
ADMIN = "test-admin-token-0123456789"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@dataclass
class Server:
    """A running `callscope serve`; ``client(token)`` gives an httpx client with that token."""

    data_dir: Path
    db_url: str = ""
    workers: int = 1
    env: dict = field(default_factory=dict)
    port: int = 0
    process: subprocess.Popen | None = None
    log: Path | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, timeout: float = 60.0) -> None:
        self.port = self.port or free_port()
        env = {**os.environ, "CALLSCOPE_ADMIN_TOKEN": ADMIN, "CALLSCOPE_POLL_S": "0.2", **self.env}
        args = [sys.executable, "-m", "api", "serve", "--host", "127.0.0.1", "--port", str(self.port),
                "--data", str(self.data_dir), "--workers", str(self.workers)]
        if self.db_url:
            args += ["--db", self.db_url]
        self.log = self.data_dir.parent / f"server-{self.port}.log"
        self.process = subprocess.Popen(args, cwd=ROOT, env=env, stdout=self.log.open("ab"), stderr=subprocess.STDOUT,
                                        start_new_session=True)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"server exited ({self.process.returncode}):\n{self.log.read_text()[-3000:]}")
            try:
                if httpx.get(f"{self.url}/api/health", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.2)
        raise RuntimeError(f"server did not answer in {timeout} s:\n{self.log.read_text()[-3000:]}")

    def stop(self, *, kill: bool = False) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        os.killpg(self.process.pid, signal.SIGKILL if kill else signal.SIGTERM)  # workers too
        try:
            self.process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def restart(self, *, kill: bool = False) -> None:
        self.stop(kill=kill)
        self.start()

    def client(self, token: str | None = ADMIN, timeout: float = 60.0) -> httpx.Client:
        headers = {"Authorization": f"Bearer {token}"} if token else {}
        return httpx.Client(base_url=self.url, headers=headers, timeout=timeout)

    def token(self, name: str, role: str, **extra) -> str:
        """Create a token through the API (as admin) and return its secret."""
        with self.client() as c:
            r = c.post("/api/tokens", json={"name": name, "role": role, **extra})
            r.raise_for_status()
            return r.json()["token"]


def wait_final(client: httpx.Client, job_ids, timeout: float = 300.0, poll: float = 0.3) -> dict[int, dict]:
    """Poll the jobs until each is done or failed (or ``timeout`` passes); their last states by id."""
    deadline = time.monotonic() + timeout
    while True:
        jobs = {i: client.get(f"/api/jobs/{i}").json() for i in job_ids}
        if all(j["state"] in ("done", "failed") for j in jobs.values()) or time.monotonic() > deadline:
            return jobs
        time.sleep(poll)


@pytest.fixture(scope="module")
def server(tmp_path_factory) -> Server:
    """One server per test module, on SQLite in a fresh folder."""
    s = Server(tmp_path_factory.mktemp("service") / "data")
    s.start()
    yield s
    s.stop()


@pytest.fixture(scope="session")
def postgres():
    """A throwaway PostgreSQL server for the whole test session (skipped, saying why, if not installed)."""
    from tests.service.postgres import PostgresServer

    server = PostgresServer.available()
    server.start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres) -> str:
    """URL of the ``callscope`` database on the session's PostgreSQL server (empty until migrated)."""
    return postgres.database("callscope")


@pytest.fixture(params=["sqlite", "postgres"])
def empty_db_url(request, tmp_path) -> str:
    """URL of a new, empty database of each kind: an SQLite file, or a fresh PostgreSQL database."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'callscope.db'}"
    postgres = request.getfixturevalue("postgres")
    return postgres.database(f"t_{os.getpid()}_{time.monotonic_ns()}")


@pytest.fixture(scope="module")
def pg_server(tmp_path_factory, postgres) -> Server:
    """One real `callscope serve` per test module on a fresh PostgreSQL database."""
    s = Server(tmp_path_factory.mktemp("service-pg") / "data",
               db_url=postgres.database(f"serve_{os.getpid()}_{time.monotonic_ns()}"))
    s.start()
    yield s
    s.stop()
