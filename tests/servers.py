"""Real processes for tests: the exporter itself, and a throwaway PostgreSQL server to stop.

Everything listens on 127.0.0.1 and is stopped by the context manager that started it.
"""

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path

import pytest

from exporter.web import SCRAPE_TIMEOUT_HEADER


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Exporter:
    """A running ``python -m exporter`` process and what it wrote to standard error."""

    def __init__(self, process: subprocess.Popen[bytes], port: int, log: Path) -> None:
        self.process = process
        self.port = port
        self.log = log

    def get(self, path: str = "/metrics", scrape_timeout: float | None = None) -> str:
        request = urllib.request.Request(f"http://127.0.0.1:{self.port}{path}")
        if scrape_timeout is not None:
            request.add_header(SCRAPE_TIMEOUT_HEADER, str(scrape_timeout))
        with urllib.request.urlopen(request, timeout=30) as response:
            body: bytes = response.read()
            return body.decode()

    def sample(self, line_start: str, scrape_timeout: float | None = None) -> float:
        """The value of the first sample line starting with ``line_start``."""
        for line in self.get(scrape_timeout=scrape_timeout).splitlines():
            if line.startswith(line_start + " "):
                return float(line.split()[-1])
        raise AssertionError(f"no sample {line_start}")

    def stderr(self) -> str:
        return self.log.read_text()


def run_cli(*args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """Run the command line to completion."""
    return subprocess.run(
        [sys.executable, "-m", "exporter", *args],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, **(env or {})},
        check=False,
    )


@contextmanager
def exporter(
    args: Sequence[str], tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[Exporter]:
    """Start the exporter in ``tmp_path`` on a free 127.0.0.1 port; stop it on exit."""
    port = free_port()
    log = tmp_path / f"exporter-{port}.log"
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            [sys.executable, "-m", "exporter", *args, "--web.listen-address", f"127.0.0.1:{port}"],
            stdout=subprocess.DEVNULL,
            stderr=stderr,
            cwd=tmp_path,
            env={**os.environ, **(env or {})},
        )
    running = Exporter(process, port, log)
    try:
        _wait_until(lambda: running.get("/-/healthy") == "Healthy.\n", process, log)
        yield running
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_until(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"exporter exited with {process.returncode}: {log.read_text()}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"exporter not ready: {log.read_text()}")


class Postgres:
    """A PostgreSQL server of our own, in a temporary directory, that a test may stop."""

    def __init__(self, bindir: Path, directory: Path, port: int) -> None:
        self.bindir = bindir
        self.directory = directory
        self.port = port
        self.url = f"postgresql://postgres@127.0.0.1:{port}/postgres"

    def run(self, program: str, *args: str, check: bool = True) -> None:
        """Run one of the server's programs, as the postgres user when we are root."""
        as_postgres = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        command = [*as_postgres, str(self.bindir / program), *args]
        subprocess.run(command, check=check, capture_output=True, timeout=60)

    def pg_ctl(self, *args: str, check: bool = True) -> None:
        self.run("pg_ctl", "-D", str(self.directory / "data"), *args, check=check)

    def start(self) -> None:
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.directory}"
        self.pg_ctl("-o", options, "-l", str(self.directory / "server.log"), "-w", "start")

    def stop(self) -> None:
        self.pg_ctl("-m", "fast", "-w", "stop")


@contextmanager
def throwaway_postgres() -> Iterator[Postgres]:
    """Initialise and start a private PostgreSQL server; stop and delete it on exit."""
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        pytest.skip("PostgreSQL server binaries (pg_config) are not installed")
    found = subprocess.run([pg_config, "--bindir"], capture_output=True, text=True, check=True)
    directory = Path(tempfile.mkdtemp(prefix="chat-exporter-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = Postgres(Path(found.stdout.strip()), directory, free_port())
    try:
        server.run("initdb", "-D", str(directory / "data"), "-A", "trust", "-U", "postgres")
        server.start()
        yield server
    finally:
        server.pg_ctl("-m", "immediate", "stop", check=False)
        shutil.rmtree(directory, ignore_errors=True)
