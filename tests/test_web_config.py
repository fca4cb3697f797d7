"""``--web.config.file``: the exporter-toolkit web configuration, for real on 127.0.0.1.

Certificates are made here (a CA, server and client certificates, expired ones, one from an
unknown CA); the exporter runs as a process on SQLite and a real Prometheus scrapes it over
TLS, with basic authentication and with mutual TLS, while other jobs knock with the wrong
password, no certificate, an expired or unknown one, or plain HTTP: those fail, and the good
scrapes next to them never do.
"""

import asyncio
import base64
import datetime
import ipaddress
import shutil
import socket
import ssl
import statistics
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from email.message import Message
from pathlib import Path
from typing import Any

import bcrypt
import pytest
import yaml
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from exporter.web_config import BasicAuth, WebConfig, WebConfigError, load
from tests.builder import Scenario, reset_schema
from tests.servers import (
    Prometheus,
    eventually,
    free_port,
    installed,
    listening,
    prometheus,
    run_cli,
    running,
    succeeds,
)

EXAMPLES = Path(__file__).parent.parent / "deploy" / "web-config"
PASSWORD = "s3cret-scrape"
HEADERS = {"X-Frame-Options": "deny", "X-Content-Type-Options": "nosniff"}
NOW = datetime.datetime.now(datetime.UTC)
DAY = datetime.timedelta(days=1)

pytestmark = pytest.mark.slow


# Certificates -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Pair:
    """A certificate and its key, written as PEM files."""

    cert: Path
    key: Path

    def serial(self) -> int:
        return x509.load_pem_x509_certificate(self.cert.read_bytes()).serial_number


def _issue(
    directory: Path,
    name: str,
    issuer: tuple[x509.Certificate, ec.EllipticCurvePrivateKey] | None = None,
    *,
    usage: x509.ObjectIdentifier | None = None,
    expired: bool = False,
) -> tuple[Pair, x509.Certificate, ec.EllipticCurvePrivateKey]:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    issuer_cert, issuer_key = issuer if issuer else (None, key)
    not_after = NOW - DAY if expired else NOW + 30 * DAY
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_cert.subject if issuer_cert else subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(NOW - 30 * DAY)
        .not_valid_after(not_after)
        .add_extension(x509.BasicConstraints(ca=usage is None, path_length=None), critical=True)
    )
    if usage is not None:
        builder = builder.add_extension(x509.ExtendedKeyUsage([usage]), critical=False)
    if usage == ExtendedKeyUsageOID.SERVER_AUTH:
        names = [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
        builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
    cert = builder.sign(issuer_key, hashes.SHA256())
    pair = Pair(directory / f"{name}.crt", directory / f"{name}.key")
    pair.cert.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    pair.key.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return pair, cert, key


@dataclass(frozen=True)
class Pki:
    """Everything the tests present or trust."""

    ca: Path
    server: Pair
    server2: Pair
    expired_server: Pair
    client: Pair
    expired_client: Pair
    stranger: Pair


@pytest.fixture(scope="module")
def pki(tmp_path_factory: pytest.TempPathFactory) -> Pki:
    directory = tmp_path_factory.mktemp("pki")
    ca, ca_cert, ca_key = _issue(directory, "ca")
    _, other_cert, other_key = _issue(directory, "other-ca")
    signed = (ca_cert, ca_key)
    server, client = ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH
    return Pki(
        ca=ca.cert,
        server=_issue(directory, "server", signed, usage=server)[0],
        server2=_issue(directory, "server2", signed, usage=server)[0],
        expired_server=_issue(directory, "expired-server", signed, usage=server, expired=True)[0],
        client=_issue(directory, "client", signed, usage=client)[0],
        expired_client=_issue(directory, "expired-client", signed, usage=client, expired=True)[0],
        stranger=_issue(directory, "stranger", (other_cert, other_key), usage=client)[0],
    )


# The exporter and HTTP clients ----------------------------------------------------------------


@pytest.fixture(scope="module")
def database(tmp_path_factory: pytest.TempPathFactory) -> str:
    url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'chat.db'}"
    s = Scenario()
    site = s.site("main")
    s.session(s.agent("Ann", [site]), "available", "2026-01-01 00:00:00")
    asyncio.run(reset_schema(url))
    asyncio.run(s.write(url))
    return url


@dataclass(frozen=True)
class Running:
    port: int
    process: subprocess.Popen[bytes]
    log: Path


@contextmanager
def exporter(config: Path, database: str, tmp_path: Path) -> Iterator[Running]:
    """The exporter process serving with ``config`` on a free 127.0.0.1 port."""
    port = free_port()
    log = tmp_path / f"exporter-{port}.log"
    command = [
        sys.executable,
        "-m",
        "exporter",
        "--database.url",
        database,
        "--web.config.file",
        str(config),
        "--web.listen-address",
        f"127.0.0.1:{port}",
    ]
    with running(command, listening(port), log, cwd=tmp_path) as process:
        yield Running(port, process, log)


def write_config(path: Path, **sections: Any) -> Path:
    path.write_text(yaml.safe_dump(sections))
    return path


def hashed(password: str, cost: int = 4) -> str:
    return bcrypt.hashpw(password.encode(), bcrypt.gensalt(cost)).decode()


def client_context(pki: Pki, pair: Pair | None = None) -> ssl.SSLContext:
    context = ssl.create_default_context(cafile=pki.ca)
    if pair is not None:
        context.load_cert_chain(pair.cert, pair.key)
    return context


def fetch(
    url: str, context: ssl.SSLContext | None = None, user: str | None = None, password: str = ""
) -> tuple[int, Message, str]:
    """Status, headers and body of a GET, error statuses included."""
    request = urllib.request.Request(url)
    if user is not None:
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        request.add_header("Authorization", f"Basic {token}")
    try:
        with urllib.request.urlopen(request, timeout=10, context=context) as response:
            return response.status, response.headers, response.read().decode()
    except urllib.error.HTTPError as error:
        return error.code, error.headers, error.read().decode()


def served_serial(port: int) -> int:
    """The serial number of the certificate a new connection to ``port`` is served (expired
    or not: it is only looked at)."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    context.check_hostname, context.verify_mode = False, ssl.CERT_NONE
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        context.wrap_socket(raw, server_hostname="127.0.0.1") as tls,
    ):
        der = tls.getpeercert(binary_form=True)
    assert der is not None
    return x509.load_der_x509_certificate(der).serial_number


# Prometheus -----------------------------------------------------------------------------------


def job(name: str, port: int, scheme: str = "https", **settings: Any) -> dict[str, Any]:
    return {
        "job_name": name,
        "scheme": scheme,
        "static_configs": [{"targets": [f"127.0.0.1:{port}"]}],
        **settings,
    }


def prometheus_config(tmp_path: Path, jobs: list[dict[str, Any]]) -> Path:
    path = tmp_path / "prometheus.yml"
    glob = {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    path.write_text(yaml.safe_dump({"global": glob, "scrape_configs": jobs}))
    return path


def last_errors(server: Prometheus) -> dict[str, str]:
    """Each job's last scrape error, to say why an assertion on ``up`` failed."""
    return {t["labels"]["job"]: t["lastError"] for t in server.api("targets")["activeTargets"]}


def by_job(server: Prometheus, expr: str) -> dict[str, float]:
    return {r["metric"]["job"]: float(r["value"][1]) for r in server.query(expr)}


# Tests ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("example", sorted(EXAMPLES.glob("*.yml")), ids=lambda p: p.name)
def test_every_shipped_example_passes_promtool_and_the_exporter(
    example: Path, pki: Pki, tmp_path: Path
) -> None:
    promtool = installed("promtool")
    shutil.copy(example, tmp_path)
    shutil.copy(pki.server.cert, tmp_path / "exporter.crt")
    shutil.copy(pki.server.key, tmp_path / "exporter.key")
    shutil.copy(pki.ca, tmp_path / "prometheus-ca.crt")

    succeeds(promtool, "check", "web-config", str(tmp_path / example.name))
    load(tmp_path / example.name)


# Each case: a file both promtool and the exporter refuse, and the exporter's one line.
INVALID = {
    "unknown key": (
        "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  certfile: x\n",
        "tls_server_config.'certfile': unknown key",
    ),
    "repeated key": ("basic_auth_users:\n  a: {h}\n  a: {h}\n", "line 3: 'a' repeated"),
    "missing key_file": (
        "tls_server_config:\n  cert_file: s.crt\n",
        "tls_server_config: missing key_file",
    ),
    "unreadable cert": (
        "tls_server_config:\n  cert_file: absent.crt\n  key_file: s.key\n",
        "cannot load cert_file",
    ),
    "client auth type": (
        "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  client_auth_type: Always\n",
        "client_auth_type: invalid 'Always'",
    ),
    "CA without policy": (
        "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  client_ca_file: ca.crt\n",
        "client_ca_file is set without a client_auth_type",
    ),
    "TLS version": (
        "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  min_version: TLS14\n",
        "min_version: unknown TLS version 'TLS14'",
    ),
    "cipher": (
        "tls_server_config:\n  cert_file: s.crt\n  key_file: s.key\n  cipher_suites: [TLS_RSA_WITH_RC4_128_SHA]\n",
        "unknown cipher 'TLS_RSA_WITH_RC4_128_SHA'",
    ),
    "header": (
        "http_server_config:\n  headers:\n    Server: hidden\n",
        "headers: 'Server' cannot be configured",
    ),
    "header value": (
        "http_server_config:\n  headers:\n    X-Frame-Options: allow\n",
        "X-Frame-Options: expected deny or sameorigin, got 'allow'",
    ),
    "bcrypt hash": (
        "basic_auth_users:\n  prometheus: plaintext\n",
        "basic_auth_users.prometheus: not a bcrypt hash",
    ),
    "YAML": ("tls_server_config: [\n", "invalid YAML"),
}


@pytest.mark.parametrize("case", INVALID, ids=str)
def test_invalid_files_are_refused_as_promtool_refuses_them(
    case: str, pki: Pki, tmp_path: Path
) -> None:
    promtool = installed("promtool")
    text, message = INVALID[case]
    shutil.copy(pki.server.cert, tmp_path / "s.crt")
    shutil.copy(pki.server.key, tmp_path / "s.key")
    shutil.copy(pki.ca, tmp_path / "ca.crt")
    path = tmp_path / "web.yml"
    path.write_text(text.replace("{h}", hashed("x")))

    with pytest.raises(WebConfigError) as refused:
        load(path)
    assert str(refused.value).startswith(f"{path}: ")
    assert message in str(refused.value)
    assert "\n" not in str(refused.value)
    checked = run_promtool(promtool, path)
    assert checked.returncode != 0, checked.stdout


def run_promtool(promtool: str, path: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [promtool, "check", "web-config", str(path)], capture_output=True, text=True, check=False
    )


# Files promtool accepts but this exporter cannot honour, or that would inject a header.
STRICTER = {
    "rate_limit": ("rate_limit:\n  interval: 1s\n  burst: 2\n", "rate_limit: not supported"),
    "client_allowed_sans": (
        "tls_server_config:\n  client_allowed_sans: [a]\n",
        "tls_server_config.client_allowed_sans: not supported",
    ),
    "header newline": (
        'http_server_config:\n  headers:\n    Content-Security-Policy: "a\\r\\nSet-Cookie: x"\n',
        "Content-Security-Policy: expected a string",
    ),
}


@pytest.mark.parametrize("case", STRICTER, ids=str)
def test_what_this_exporter_cannot_honour_is_refused_not_ignored(case: str, tmp_path: Path) -> None:
    text, message = STRICTER[case]
    path = tmp_path / "web.yml"
    path.write_text(text)
    with pytest.raises(WebConfigError, match=message):
        load(path)


def test_an_invalid_file_stops_the_exporter_with_one_line(tmp_path: Path, database: str) -> None:
    path = tmp_path / "web.yml"
    path.write_text("http_server_config:\n  headers:\n    X-Frame-Options: allow\n")

    result = run_cli("--database.url", database, "--web.config.file", str(path))

    assert result.returncode == 1
    assert result.stderr == (
        f"chat-supervision-exporter: {path}: http_server_config.headers.X-Frame-Options: "
        "expected deny or sameorigin, got 'allow'\n"
    )


def test_prometheus_scrapes_over_tls_basic_auth_and_mutual_tls_while_bad_clients_fail(
    pki: Pki, database: str, tmp_path: Path
) -> None:
    tls = {"cert_file": str(pki.server.cert), "key_file": str(pki.server.key)}
    mutual = {
        **tls,
        "client_ca_file": str(pki.ca),
        "client_auth_type": "RequireAndVerifyClientCert",
    }
    users = {"prometheus": hashed(PASSWORD, cost=10)}
    headers = {"headers": HEADERS}
    ca = {"ca_file": str(pki.ca)}

    def client(pair: Pair) -> dict[str, str]:
        return {**ca, "cert_file": str(pair.cert), "key_file": str(pair.key)}

    with ExitStack() as stack:
        plain = stack.enter_context(
            exporter(write_config(tmp_path / "tls.yml", tls_server_config=tls), database, tmp_path)
        )
        auth = stack.enter_context(
            exporter(
                write_config(
                    tmp_path / "auth.yml",
                    tls_server_config=tls,
                    basic_auth_users=users,
                    http_server_config=headers,
                ),
                database,
                tmp_path,
            )
        )
        mtls = stack.enter_context(
            exporter(
                write_config(tmp_path / "mtls.yml", tls_server_config=mutual), database, tmp_path
            )
        )
        good = {
            "tls": job("tls", plain.port, tls_config=ca),
            "auth": job(
                "auth",
                auth.port,
                tls_config=ca,
                basic_auth={"username": "prometheus", "password": PASSWORD},
            ),
            "mtls": job("mtls", mtls.port, tls_config=client(pki.client)),
        }
        bad = {
            "plain-http": job("plain-http", plain.port, scheme="http"),
            "wrong-password": job(
                "wrong-password",
                auth.port,
                tls_config=ca,
                basic_auth={"username": "prometheus", "password": "guess"},
            ),
            "unknown-user": job(
                "unknown-user",
                auth.port,
                tls_config=ca,
                basic_auth={"username": "root", "password": PASSWORD},
            ),
            "no-credentials": job("no-credentials", auth.port, tls_config=ca),
            "no-client-cert": job("no-client-cert", mtls.port, tls_config=ca),
            "expired-client-cert": job(
                "expired-client-cert", mtls.port, tls_config=client(pki.expired_client)
            ),
            "unknown-ca-client-cert": job(
                "unknown-ca-client-cert", mtls.port, tls_config=client(pki.stranger)
            ),
            "mtls-plain-http": job("mtls-plain-http", mtls.port, scheme="http"),
        }
        config = prometheus_config(tmp_path, [*good.values(), *bad.values()])
        server = stack.enter_context(prometheus(config, tmp_path))

        # Ten seconds of scrapes, every job at once, once a second.
        window = "[10s]"
        everyone = set(good) | set(bad)
        assert eventually(
            lambda: set(by_job(server, f"count_over_time(up{window}) >= 8")) == everyone, 60
        )
        expected = {**dict.fromkeys(bad, 0.0), **dict.fromkeys(good, 1.0)}
        assert by_job(server, f"max_over_time(up{window})") == expected, last_errors(server)
        assert by_job(server, f"min_over_time(up{window})") == expected, last_errors(server)
        assert by_job(server, "chat_up") == dict.fromkeys(good, 1.0)

        # What the bad clients were told, and the headers on every answer.
        url = f"https://127.0.0.1:{auth.port}/metrics"
        for user, password in (("prometheus", "guess"), ("root", PASSWORD), (None, "")):
            status, answer, _ = fetch(url, client_context(pki), user, password)
            assert status == 401
            assert answer["WWW-Authenticate"] == "Basic"
            assert {name: answer[name] for name in HEADERS} == HEADERS
        status, answer, body = fetch(url, client_context(pki), "prometheus", PASSWORD)
        assert status == 200
        assert "\nchat_up 1\n" in body
        assert {name: answer[name] for name in HEADERS} == HEADERS
        status, answer, _ = fetch(f"{url}/absent", client_context(pki), "prometheus", PASSWORD)
        assert (status, answer["X-Frame-Options"]) == (404, "deny")
        mtls_url = f"https://127.0.0.1:{mtls.port}/metrics"
        for pair in (None, pki.expired_client, pki.stranger):
            with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
                fetch(mtls_url, client_context(pki, pair))

        # Connections that never complete a handshake hold nobody up.
        stalled = [socket.create_connection(("127.0.0.1", mtls.port)) for _ in range(20)]
        try:
            started = time.monotonic()
            assert fetch(mtls_url, client_context(pki, pki.client))[0] == 200
            assert time.monotonic() - started < 2
        finally:
            for connection in stalled:
                connection.close()

        for running_exporter in (plain, auth, mtls):
            assert "Traceback" not in running_exporter.log.read_text()


def test_certificates_and_users_change_on_disk_without_restart(
    pki: Pki, database: str, tmp_path: Path
) -> None:
    cert, key = tmp_path / "exporter.crt", tmp_path / "exporter.key"
    shutil.copy(pki.expired_server.cert, cert)
    shutil.copy(pki.expired_server.key, key)
    tls = {"cert_file": "exporter.crt", "key_file": "exporter.key"}
    config = write_config(tmp_path / "web.yml", tls_server_config=tls)
    ca = {"ca_file": str(pki.ca)}
    with exporter(config, database, tmp_path) as running_exporter:
        server_config = prometheus_config(
            tmp_path, [job("rotated", running_exporter.port, tls_config=ca)]
        )
        with prometheus(server_config, tmp_path) as server:
            # An expired server certificate: Prometheus refuses it.
            assert eventually(lambda: by_job(server, "up") == {"rotated": 0.0}, 30)
            assert served_serial(running_exporter.port) == pki.expired_server.serial()

            # The same files, replaced: the next connection gets the new certificate.
            shutil.copy(pki.server.key, key)
            shutil.copy(pki.server.cert, cert)
            assert served_serial(running_exporter.port) == pki.server.serial()
            assert eventually(lambda: by_job(server, "up") == {"rotated": 1.0}, 30)

            # The file itself changed: other paths, and a user to authenticate.
            write_config(
                config,
                tls_server_config={
                    "cert_file": str(pki.server2.cert),
                    "key_file": str(pki.server2.key),
                },
                basic_auth_users={"prometheus": hashed(PASSWORD)},
            )
            assert served_serial(running_exporter.port) == pki.server2.serial()
            url = f"https://127.0.0.1:{running_exporter.port}/metrics"
            assert fetch(url, client_context(pki))[0] == 401
            assert fetch(url, client_context(pki), "prometheus", PASSWORD)[0] == 200

            # A file broken while running refuses connections, and recovers when mended.
            config.write_text("tls_server_config: [\n")
            with pytest.raises((ssl.SSLError, urllib.error.URLError, ConnectionError)):
                fetch(url, client_context(pki), "prometheus", PASSWORD)
            write_config(config, tls_server_config=tls)
            assert fetch(url, client_context(pki))[0] == 200
        assert running_exporter.process.poll() is None  # the same process throughout
        log = running_exporter.log.read_text()
    assert "TLS handshake refused" in log
    assert "Traceback" not in log


def _timed(auth: BasicAuth, config: WebConfig, user: str, password: str) -> float:
    token = base64.b64encode(f"{user}:{password}".encode()).decode()
    started = time.perf_counter()
    assert not asyncio.run(auth.allowed(config, f"Basic {token}"))
    return time.perf_counter() - started


def test_an_unknown_user_costs_as_much_as_a_wrong_password_and_outcomes_are_cached(
    tmp_path: Path,
) -> None:
    path = write_config(tmp_path / "web.yml", basic_auth_users={"prometheus": hashed(PASSWORD, 10)})
    config = load(path)
    auth = BasicAuth()
    _timed(auth, config, "warm-up", "x")  # makes the dummy hash once

    wrong = statistics.median(_timed(auth, config, "prometheus", f"guess{n}") for n in range(5))
    unknown = statistics.median(_timed(auth, config, f"user{n}", PASSWORD) for n in range(5))
    again = _timed(auth, config, "user0", PASSWORD)

    assert 0.6 < unknown / wrong < 1.6, (unknown, wrong)
    assert again < wrong / 10


def test_wrong_passwords_are_cached_apart_and_bounded(tmp_path: Path) -> None:
    config = load(write_config(tmp_path / "web.yml", basic_auth_users={"a": hashed("b")}))
    auth = BasicAuth()
    token = base64.b64encode(b"a:b").decode()
    assert asyncio.run(auth.allowed(config, f"Basic {token}"))
    for n in range(BasicAuth.CACHE_SIZE + 50):
        _timed(auth, config, "a", str(n))

    assert len(auth._refused) == BasicAuth.CACHE_SIZE
    assert len(auth._granted) == 1  # the good entry survived the flood


def test_basic_auth_without_tls_and_a_file_broken_while_running(
    database: str, tmp_path: Path
) -> None:
    config = write_config(
        tmp_path / "web.yml",
        basic_auth_users={"prometheus": hashed(PASSWORD)},
        http_server_config={"headers": HEADERS},
    )
    with exporter(config, database, tmp_path) as running_exporter:
        url = f"http://127.0.0.1:{running_exporter.port}/-/healthy"
        assert fetch(url)[0] == 401
        status, answer, _ = fetch(url, user="prometheus", password=PASSWORD)
        assert (status, answer["X-Content-Type-Options"]) == (200, "nosniff")

        config.write_text("basic_auth_users: {prometheus: plaintext}\n")
        assert fetch(url, user="prometheus", password=PASSWORD)[0] == 500
        write_config(config, basic_auth_users={"prometheus": hashed("changed")})
        assert fetch(url, user="prometheus", password="changed")[0] == 200
        log = running_exporter.log.read_text()
    assert "not a bcrypt hash" in log
    assert "TLS is disabled" in log
    assert "Traceback" not in log
