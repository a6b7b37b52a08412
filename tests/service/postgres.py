"""A throwaway PostgreSQL server for the tests: Debian's binaries, a cluster in a temporary folder.

``PostgresServer.start()`` runs initdb and pg_ctl (as the ``postgres`` OS user when the tests run as
root, since PostgreSQL refuses to run as root) on a free port of 127.0.0.1 with trust authentication
and its socket in the same folder; ``stop()`` shuts it down and deletes everything. Where the
binaries are missing the tests that need them are skipped, saying how to install them.
"""

from __future__ import annotations

import atexit
import glob
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import pytest

INSTALL_HINT = "PostgreSQL not installed: apt-get install postgresql (.ci/run does this)"


def find_bin_dir() -> Path | None:
    """The newest ``/usr/lib/postgresql/<version>/bin`` holding initdb, or the one on PATH."""
    candidates = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"), key=lambda p: int(Path(p).parts[-3]))
    if candidates:
        return Path(candidates[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb and shutil.which("pg_ctl") else None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class PostgresServer:
    """One PostgreSQL cluster for a test session; ``database(name)`` creates a database and gives its URL."""

    def __init__(self, bin_dir: Path, run_as: str | None):
        self.bin_dir = bin_dir
        self.run_as = run_as  # OS user that owns the cluster (None: the current user)
        # under /tmp when another user runs the server: it must be able to reach the folder
        self.root = Path(tempfile.mkdtemp(prefix="callscope-pg-", dir="/tmp" if run_as else None))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.port = 0
        self.started = False

    @classmethod
    def available(cls) -> PostgresServer:
        """A server ready to start, or a pytest skip that says what is missing."""
        bin_dir = find_bin_dir()
        if bin_dir is None:
            pytest.skip(INSTALL_HINT)
        run_as = None
        if os.geteuid() == 0:
            try:
                pwd.getpwnam("postgres")
            except KeyError:
                pytest.skip("running as root and there is no 'postgres' OS user to own the test cluster "
                            "(Debian's postgresql package creates it)")
            if not shutil.which("runuser"):
                pytest.skip("running as root and runuser (util-linux) is missing, so the cluster cannot be started")
            run_as = "postgres"
        return cls(bin_dir, run_as)

    def _command(self, program: str, *args: str) -> list[str]:
        cmd = [str(self.bin_dir / program), *args]
        return ["runuser", "-u", self.run_as, "--", *cmd] if self.run_as else cmd

    def _run(self, *args: str, timeout: float = 120) -> subprocess.CompletedProcess:
        result = subprocess.run(self._command(*args), check=False, capture_output=True, text=True, timeout=timeout,
                                cwd=self.root)
        if result.returncode != 0:
            log = self.log.read_text(errors="replace")[-3000:] if self.log.exists() else ""
            raise RuntimeError(f"{' '.join(args[:2])} failed ({result.returncode}):\n{result.stdout}\n"
                               f"{result.stderr}\n{log}")
        return result

    def start(self) -> None:
        """initdb, then start on a free port (fsync off: the data is thrown away anyway)."""
        if self.run_as:
            shutil.chown(self.root, self.run_as, self.run_as)
        os.chmod(self.root, 0o700)
        self._run("initdb", "-D", str(self.data), "-U", "postgres", "-A", "trust", "--encoding=UTF8",
                  "--no-locale", "--no-sync")
        for _attempt in range(3):  # a port taken between choosing and binding: choose again
            self.port = _free_port()
            options = (f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off "
                       "-c synchronous_commit=off -c full_page_writes=off -c shared_buffers=32MB")
            try:
                self._run("pg_ctl", "-D", str(self.data), "-l", str(self.log), "-o", options, "-w", "-t", "60",
                          "start")
            except RuntimeError:
                if "could not bind" not in (self.log.read_text(errors="replace") if self.log.exists() else ""):
                    raise
                continue
            self.started = True
            atexit.register(self.stop)  # also when the session ends without its fixture teardown
            return
        raise RuntimeError(f"PostgreSQL did not start:\n{self.log.read_text(errors='replace')[-3000:]}")

    def url(self, database: str = "postgres") -> str:
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def database(self, name: str) -> str:
        """Create an empty database ``name`` (UTF-8) and return its SQLAlchemy URL."""
        self._run("createdb", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres", "-E", "UTF8",
                  "-T", "template0", name)
        return self.url(name)

    def stop(self) -> None:
        """Stop the server (fast shutdown, then immediate) and delete its folder."""
        if self.started:
            try:
                self._run("pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "-t", "30", "stop")
            except (RuntimeError, subprocess.TimeoutExpired):
                subprocess.run(self._command("pg_ctl", "-D", str(self.data), "-m", "immediate", "stop"),
                               check=False, capture_output=True, timeout=60)
            self.started = False
        shutil.rmtree(self.root, ignore_errors=True)
