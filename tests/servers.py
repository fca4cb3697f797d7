"""Real processes for tests: the exporter, Prometheus, Alertmanager, a webhook receiver, and
a throwaway PostgreSQL server to stop.

Everything listens on 127.0.0.1 and is stopped by the context manager that started it.
"""

import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any, TypeVar

import pytest

from exporter.web import SCRAPE_TIMEOUT_HEADER

ALERT_WEBHOOK = Path(__file__).parent.parent / "deploy" / "alert_webhook.py"
T = TypeVar("T")


# Programs the tests run, and the Debian package each comes from.
PACKAGES = {
    "prometheus": "prometheus",
    "promtool": "prometheus",
    "prometheus-alertmanager": "prometheus-alertmanager",
    "amtool": "prometheus-alertmanager",
    "victoria-metrics": "victoria-metrics",
    "vmalert": "victoria-metrics",
    "kubectl": "kubectl",
    "systemd-analyze": "systemd",
    "chromium": "chromium",
    "node": "nodejs",
    "npm": "npm",
}


def installed(program: str) -> str:
    """The path of ``program``, or a skip naming the Debian package that provides it."""
    path = shutil.which(program)
    if path is None:
        pytest.skip(f"{program} is not installed (Debian package {PACKAGES[program]})")
    return path


def succeeds(*command: str, stdin: str | None = None, cwd: Path | None = None) -> str:
    """Run ``command`` to completion and return its output; fail with it unless it exits 0."""
    result = subprocess.run(
        command, input=stdin, cwd=cwd, capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    return result.stdout


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
def running(
    command: Sequence[str],
    ready: Callable[[], bool],
    log: Path,
    cwd: Path | None = None,
    env: dict[str, str] | None = None,
) -> Iterator[subprocess.Popen[bytes]]:
    """Start a server process logging to ``log``, wait until ``ready()``; stop it on exit."""
    with log.open("wb") as stderr:
        process = subprocess.Popen(
            command,
            stdout=stderr,
            stderr=subprocess.STDOUT,
            cwd=cwd,
            env={**os.environ, **(env or {})},
        )
    try:
        _wait_until(ready, process, log)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def http_get(url: str) -> str:
    with urllib.request.urlopen(url, timeout=30) as response:
        body: bytes = response.read()
        return body.decode()


def answers(url: str) -> Callable[[], bool]:
    """A readiness check: ``url`` answers 2xx (an error status raises, so the wait goes on)."""

    def check() -> bool:
        http_get(url)
        return True

    return check


@contextmanager
def exporter(
    args: Sequence[str], tmp_path: Path, env: dict[str, str] | None = None
) -> Iterator[Exporter]:
    """Start the exporter in ``tmp_path`` on a free 127.0.0.1 port; stop it on exit."""
    port = free_port()
    log = tmp_path / f"exporter-{port}.log"
    command = [sys.executable, "-m", "exporter", *args, "--web.listen-address", f"127.0.0.1:{port}"]
    healthy = f"http://127.0.0.1:{port}/-/healthy"
    with running(command, answers(healthy), log, cwd=tmp_path, env=env) as process:
        yield Exporter(process, port, log)


class Prometheus:
    """A running Prometheus and its HTTP API."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def api(self, path: str, **params: str) -> Any:
        """The ``data`` of a successful API answer; a PromQL error raises with its message."""
        query = urllib.parse.urlencode(params)
        try:
            answer = json.loads(http_get(f"{self.url}/api/v1/{path}?{query}"))
        except urllib.error.HTTPError as error:
            raise AssertionError(f"{path} {params}: {error.read().decode()}") from error
        return answer["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """The instant vector of ``expr`` now: ``[{"metric": {...}, "value": [t, "v"]}]``."""
        data = self.api("query", query=expr)
        assert data["resultType"] == "vector", (expr, data["resultType"])
        result: list[dict[str, Any]] = data["result"]
        return result

    def alerts(self) -> list[dict[str, Any]]:
        """Alerts pending or firing now."""
        alerts: list[dict[str, Any]] = self.api("alerts")["alerts"]
        return alerts


@contextmanager
def prometheus(config: Path, tmp_path: Path) -> Iterator[Prometheus]:
    """Run Prometheus 2.x with ``config`` on a free 127.0.0.1 port; stop it on exit."""
    binary = installed("prometheus")
    port = free_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.tsdb.path={tmp_path / 'prometheus-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
    ]
    ready = answers(f"http://127.0.0.1:{port}/-/ready")
    with running(command, ready, tmp_path / "prometheus.log"):
        yield Prometheus(port)


class Alertmanager:
    """A running Alertmanager and its HTTP API."""

    def __init__(self, port: int) -> None:
        self.url = f"http://127.0.0.1:{port}"

    def alerts(self) -> list[dict[str, Any]]:
        """Every alert it holds, with ``status.state`` and ``status.inhibitedBy``."""
        alerts: list[dict[str, Any]] = json.loads(http_get(f"{self.url}/api/v2/alerts"))
        return alerts

    def post(self, alerts: list[dict[str, Any]]) -> None:
        """Send alerts the way Prometheus does."""
        request = urllib.request.Request(
            f"{self.url}/api/v2/alerts",
            data=json.dumps(alerts).encode(),
            headers={"Content-Type": "application/json"},
        )
        with urllib.request.urlopen(request, timeout=30):
            pass


@contextmanager
def alertmanager(config: Path, tmp_path: Path) -> Iterator[Alertmanager]:
    """Run Alertmanager alone (no cluster) on a free 127.0.0.1 port; stop it on exit."""
    binary = installed("prometheus-alertmanager")
    port = free_port()
    command = [
        binary,
        f"--config.file={config}",
        f"--storage.path={tmp_path / 'alertmanager-data'}",
        f"--web.listen-address=127.0.0.1:{port}",
        "--cluster.listen-address=",
    ]
    ready = answers(f"http://127.0.0.1:{port}/-/ready")
    with running(command, ready, tmp_path / "alertmanager.log"):
        yield Alertmanager(port)


class Webhook:
    """The composed stack's webhook receiver (deploy/alert_webhook.py), run for a test."""

    def __init__(self, port: int, output: Path) -> None:
        self.url = f"http://127.0.0.1:{port}"
        self.output = output

    def received(self) -> list[dict[str, Any]]:
        """The notifications so far, as the receiver summarises them (one JSON line each)."""
        return [json.loads(line) for line in self.output.read_text().splitlines()]


@contextmanager
def webhook(tmp_path: Path) -> Iterator[Webhook]:
    """Run deploy/alert_webhook.py on a free 127.0.0.1 port; stop it on exit."""
    port = free_port()
    output = tmp_path / "notifications.jsonl"
    command = [sys.executable, str(ALERT_WEBHOOK), f"127.0.0.1:{port}"]
    with running(command, listening(port), output):
        yield Webhook(port, output)


def listening(port: int) -> Callable[[], bool]:
    """A readiness check: something accepts connections on 127.0.0.1:``port``."""

    def check() -> bool:
        with socket.create_connection(("127.0.0.1", port), timeout=1):
            return True

    return check


def eventually(check: Callable[[], T], seconds: float) -> T:
    """The first truthy result of ``check`` within ``seconds``, or else its last result."""
    deadline = time.monotonic() + seconds
    result = check()
    while not result and time.monotonic() < deadline:
        time.sleep(0.2)
        result = check()
    return result


def _wait_until(check: Callable[[], bool], process: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"{log.name}: exited with {process.returncode}: {log.read_text()}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(0.1)
    raise AssertionError(f"{log.name}: not ready: {log.read_text()}")


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
