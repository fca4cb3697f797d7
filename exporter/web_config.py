"""``--web.config.file``: TLS, basic authentication and response headers, in the file format
and with the semantics of Prometheus' exporter-toolkit, so that one file (and ``promtool check
web-config``) serves this exporter like any other.

What it replicates from exporter-toolkit (web/tls_config.go, web/handler.go, web/cache.go):
unknown or repeated keys are errors; relative paths are relative to the file's directory;
TLS 1.2 to 1.3 and server cipher preference by default; a client CA needs a client
authentication policy; only a few security headers may be set; bcrypt hashes are checked at
start; the file is read again when it changes and the certificates on every new connection,
so they rotate without restart; credentials are checked one bcrypt at a time and the
outcome cached; an unknown user is compared against a dummy hash of the same cost so that it
takes as long as a wrong password. Keys this exporter cannot honour (inline ``cert``,
``key``, ``client_ca``, ``client_allowed_sans``, ``curve_preferences``, ``rate_limit``) are
refused rather than ignored, so that nobody believes in a protection that is not there.
"""

import asyncio
import base64
import binascii
import hashlib
import logging
import os
import re
import reprlib
import ssl
from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Self

import bcrypt
import yaml
from aiohttp import hdrs, web
from aiohttp.typedefs import Handler, Middleware

from exporter.config import read_at_most

log = logging.getLogger(__name__)

MAX_FILE_BYTES = 1 << 20

TLS_VERSIONS = {
    "TLS10": ssl.TLSVersion.TLSv1,
    "TLS11": ssl.TLSVersion.TLSv1_1,
    "TLS12": ssl.TLSVersion.TLSv1_2,
    "TLS13": ssl.TLSVersion.TLSv1_3,
}

# Go's crypto/tls names (tls.CipherSuites(), the ones exporter-toolkit accepts) to OpenSSL's.
# TLS 1.3 suites are accepted but, as in Go, not configurable.
CIPHER_SUITES = {
    "TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA": "ECDHE-ECDSA-AES128-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA": "ECDHE-ECDSA-AES256-SHA",
    "TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA": "ECDHE-RSA-AES128-SHA",
    "TLS_ECDHE_RSA_WITH_AES_256_CBC_SHA": "ECDHE-RSA-AES256-SHA",
    "TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256": "ECDHE-ECDSA-AES128-GCM-SHA256",
    "TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384": "ECDHE-ECDSA-AES256-GCM-SHA384",
    "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256": "ECDHE-RSA-AES128-GCM-SHA256",
    "TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384": "ECDHE-RSA-AES256-GCM-SHA384",
    "TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-ECDSA-CHACHA20-POLY1305",
    "TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256": "ECDHE-RSA-CHACHA20-POLY1305",
    "TLS_AES_128_GCM_SHA256": "",
    "TLS_AES_256_GCM_SHA384": "",
    "TLS_CHACHA20_POLY1305_SHA256": "",
}

# Go's tls.ClientAuthType names. RequestClientCert asks for a certificate but neither
# requires nor verifies it: for access it is NoClientCert. Python's ssl cannot accept a
# certificate unverified, so RequireAnyClientCert (and its old name) verifies it like
# RequireAndVerifyClientCert: stricter, never looser.
CLIENT_AUTH_TYPES = {
    "NoClientCert": ssl.CERT_NONE,
    "RequestClientCert": ssl.CERT_NONE,
    "RequireAnyClientCert": ssl.CERT_REQUIRED,
    "RequireClientCert": ssl.CERT_REQUIRED,
    "VerifyClientCertIfGiven": ssl.CERT_OPTIONAL,
    "RequireAndVerifyClientCert": ssl.CERT_REQUIRED,
}

# The headers exporter-toolkit lets a file set (handler.go's extraHTTPHeaders), with the
# values allowed where they form an enumeration.
HEADERS: dict[str, tuple[str, ...]] = {
    "Strict-Transport-Security": (),
    "X-Content-Type-Options": ("nosniff",),
    "X-Frame-Options": ("deny", "sameorigin"),
    "X-XSS-Protection": (),
    "Content-Security-Policy": (),
}

_KEYS = {
    "": {"tls_server_config", "http_server_config", "basic_auth_users"},
    "tls_server_config": {
        "cert_file",
        "key_file",
        "client_ca_file",
        "client_auth_type",
        "cipher_suites",
        "min_version",
        "max_version",
        "prefer_server_cipher_suites",
    },
    "http_server_config": {"headers", "http2"},
}
_UNSUPPORTED = {
    "": {"rate_limit"},
    "tls_server_config": {"cert", "key", "client_ca", "client_allowed_sans", "curve_preferences"},
    "http_server_config": set(),
}
_BCRYPT = re.compile(rb"\$2[abxy]?\$(\d\d)\$[./A-Za-z0-9]{53}")
_repr = reprlib.Repr()
_repr.maxstring = _repr.maxother = 60
_shown = _repr.repr


class WebConfigError(Exception):
    """A web configuration problem, worded for the operator in one line."""


@dataclass(frozen=True)
class TLSServerConfig:
    """The ``tls_server_config`` section, paths resolved."""

    cert_file: Path
    key_file: Path
    client_ca_file: Path | None
    verify_mode: ssl.VerifyMode
    min_version: ssl.TLSVersion
    max_version: ssl.TLSVersion
    ciphers: tuple[str, ...] | None
    prefer_server_cipher_suites: bool


@dataclass(frozen=True)
class WebConfig:
    """A parsed web configuration file."""

    tls: TLSServerConfig | None
    headers: Mapping[str, str]
    users: Mapping[str, bytes]

    def dummy_cost(self) -> int:
        """The bcrypt cost most users' hashes have: what an unknown user's check must cost."""
        costs = Counter(_cost(hashed) for hashed in self.users.values())
        return max(costs, key=lambda cost: (costs[cost], cost))


class _StrictLoader(yaml.SafeLoader):
    """yaml.v2's UnmarshalStrict, as exporter-toolkit reads: a key given twice is an error."""


def _mapping(loader: _StrictLoader, node: yaml.MappingNode) -> dict[Any, Any]:
    seen = set()
    for key_node, _ in node.value:
        key = loader.construct_object(key_node)
        if key in seen:
            raise WebConfigError(f"line {key_node.start_mark.line + 1}: {_shown(key)} repeated")
        seen.add(key)
    return loader.construct_mapping(node, deep=True)


_StrictLoader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _mapping)


def load(path: Path) -> WebConfig:
    """Read and validate the file, certificates included; WebConfigError in one line."""
    try:
        content = read_at_most(path, MAX_FILE_BYTES)
    except OSError as error:
        raise WebConfigError(f"cannot read web config file {path}: {error.strerror}") from error
    if len(content) > MAX_FILE_BYTES:
        raise WebConfigError(f"{path}: larger than {MAX_FILE_BYTES} bytes")
    try:
        document = yaml.load(content, Loader=_StrictLoader)
    except yaml.YAMLError as error:
        raise WebConfigError(f"{path}: invalid YAML: {' '.join(str(error).split())}") from error
    except RecursionError as error:
        raise WebConfigError(f"{path}: nested too deeply") from error
    except WebConfigError as error:
        raise WebConfigError(f"{path}: {error}") from error
    try:
        config = _parse(document, path.parent)
        if config.tls is not None:
            ssl_context(config.tls)
    except WebConfigError as error:
        raise WebConfigError(f"{path}: {error}") from error
    return config


def _section(document: object, name: str) -> dict[str, Any]:
    if document is None:
        return {}
    if not isinstance(document, dict):
        raise WebConfigError(f"{name or 'the file'}: expected a mapping, got {_shown(document)}")
    prefix = f"{name}." if name else ""
    for key in document:
        if key in _UNSUPPORTED[name]:
            raise WebConfigError(f"{prefix}{key}: not supported by this exporter")
        if key not in _KEYS[name]:
            raise WebConfigError(f"{prefix}{_shown(key)}: unknown key")
    return {key: value for key, value in document.items() if value is not None}


def _string(value: object, name: str) -> str:
    if not isinstance(value, str):
        raise WebConfigError(f"{name}: expected a string, got {_shown(value)}")
    return value


def _parse(document: object, directory: Path) -> WebConfig:
    top = _section(document, "")
    tls = _section(top.get("tls_server_config"), "tls_server_config")
    http = _section(top.get("http_server_config"), "http_server_config")
    if not isinstance(http.get("http2", True), bool):
        raise WebConfigError(
            f"http_server_config.http2: expected true or false, got {http['http2']!r}"
        )
    return WebConfig(
        tls=_tls(tls, directory) if tls else None,
        headers=_headers(http.get("headers")),
        users=_users(top.get("basic_auth_users")),
    )


def _tls(section: dict[str, Any], directory: Path) -> TLSServerConfig:
    def path(key: str) -> Path | None:
        value = section.get(key)
        return None if not value else directory / _string(value, f"tls_server_config.{key}")

    def version(key: str, default: str) -> ssl.TLSVersion:
        value = section.get(key, default)
        if value not in TLS_VERSIONS:
            raise WebConfigError(f"tls_server_config.{key}: unknown TLS version {_shown(value)}")
        return TLS_VERSIONS[value]

    cert_file, key_file = path("cert_file"), path("key_file")
    if cert_file is None:
        raise WebConfigError("tls_server_config: missing cert_file")
    if key_file is None:
        raise WebConfigError("tls_server_config: missing key_file")
    client_auth = section.get("client_auth_type", "NoClientCert")
    if client_auth not in CLIENT_AUTH_TYPES:
        raise WebConfigError(f"tls_server_config.client_auth_type: invalid {_shown(client_auth)}")
    client_ca_file = path("client_ca_file")
    if client_ca_file is not None and client_auth == "NoClientCert":
        raise WebConfigError(
            "tls_server_config: client_ca_file is set without a client_auth_type "
            "(use RequireAndVerifyClientCert)"
        )
    suites = section.get("cipher_suites")
    if suites is not None and (not isinstance(suites, list) or not suites):
        raise WebConfigError(
            f"tls_server_config.cipher_suites: expected a list, got {_shown(suites)}"
        )
    for suite in suites or []:
        if suite not in CIPHER_SUITES:
            raise WebConfigError(f"tls_server_config.cipher_suites: unknown cipher {_shown(suite)}")
    prefer = section.get("prefer_server_cipher_suites", True)
    if not isinstance(prefer, bool):
        raise WebConfigError(
            "tls_server_config.prefer_server_cipher_suites: expected true or false, "
            f"got {_shown(prefer)}"
        )
    min_version, max_version = version("min_version", "TLS12"), version("max_version", "TLS13")
    if min_version > max_version:
        raise WebConfigError("tls_server_config: min_version is above max_version")
    return TLSServerConfig(
        cert_file=cert_file,
        key_file=key_file,
        client_ca_file=client_ca_file,
        verify_mode=CLIENT_AUTH_TYPES[client_auth],
        min_version=min_version,
        max_version=max_version,
        ciphers=None if suites is None else tuple(filter(None, map(CIPHER_SUITES.get, suites))),
        prefer_server_cipher_suites=prefer,
    )


def _headers(section: object) -> dict[str, str]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise WebConfigError(
            f"http_server_config.headers: expected a mapping, got {_shown(section)}"
        )
    for name, value in section.items():
        if name not in HEADERS:
            raise WebConfigError(f"http_server_config.headers: {_shown(name)} cannot be configured")
        allowed = HEADERS[name]
        if (
            not isinstance(value, str)
            or (allowed and value not in allowed)
            or any(ord(c) < 32 or c == "\x7f" for c in value)
        ):
            raise WebConfigError(
                f"http_server_config.headers.{name}: "
                f"expected {' or '.join(allowed) or 'a string'}, got {_shown(value)}"
            )
    return {name: value for name, value in section.items() if value}


def _users(section: object) -> dict[str, bytes]:
    if section is None:
        return {}
    if not isinstance(section, dict):
        raise WebConfigError(f"basic_auth_users: expected a mapping, got {_shown(section)}")
    users = {}
    for user, hashed in section.items():
        name = f"basic_auth_users.{_string(user, 'basic_auth_users')}"
        value = _string(hashed, name).encode()
        if not _BCRYPT.fullmatch(value) or not 4 <= _cost(value) <= 31:
            raise WebConfigError(f"{name}: not a bcrypt hash")
        users[user] = value
    return users


def _cost(hashed: bytes) -> int:
    return int(hashed.split(b"$")[2])


def ssl_context(tls: TLSServerConfig) -> ssl.SSLContext:
    """A server context from ``tls``, its files read now."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version, context.maximum_version = tls.min_version, tls.max_version
    if tls.ciphers is not None:
        if tls.ciphers:
            context.set_ciphers(":".join(tls.ciphers))
        else:  # only TLS 1.3 suites listed: Go then has none for TLS 1.2.
            context.minimum_version = ssl.TLSVersion.TLSv1_3
    if tls.prefer_server_cipher_suites:
        context.options |= ssl.OP_CIPHER_SERVER_PREFERENCE
    else:
        context.options &= ~ssl.OP_CIPHER_SERVER_PREFERENCE
    try:
        context.load_cert_chain(tls.cert_file, tls.key_file)
    except (OSError, ssl.SSLError) as error:
        raise WebConfigError(
            f"tls_server_config: cannot load cert_file {tls.cert_file} with key_file "
            f"{tls.key_file}: {_reason(error)}"
        ) from error
    if tls.verify_mode != ssl.CERT_NONE:
        try:
            if tls.client_ca_file is None:  # Go verifies against the system's roots.
                context.load_default_certs(ssl.Purpose.CLIENT_AUTH)
            else:
                context.load_verify_locations(cafile=tls.client_ca_file)
        except (OSError, ssl.SSLError) as error:
            raise WebConfigError(
                f"tls_server_config: cannot load client_ca_file {tls.client_ca_file}: "
                f"{_reason(error)}"
            ) from error
        context.verify_mode = tls.verify_mode
    return context


def _reason(error: OSError) -> str:
    return getattr(error, "reason", None) or error.strerror or str(error)


class WebConfigFile:
    """The web config file, validated at start and read again whenever it changes."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._signature: tuple[int, ...] | None = None
        self._loaded: WebConfig | WebConfigError = WebConfigError("not read yet")
        config = self.current()
        if config.users:  # the first unknown user then takes no longer than the others
            _dummy_hash(config.dummy_cost())

    def current(self) -> WebConfig:
        """The configuration as the file says now; WebConfigError if it no longer parses."""
        try:
            stat = os.stat(self.path)
            signature: tuple[int, ...] | None = (
                stat.st_ino,
                stat.st_dev,
                stat.st_size,
                stat.st_mtime_ns,
                stat.st_ctime_ns,
            )
        except OSError:
            signature = None
        if signature is None or signature != self._signature:
            try:
                self._loaded = load(self.path)
            except WebConfigError as error:
                self._loaded = error
            self._signature = signature
        if isinstance(self._loaded, WebConfigError):
            raise self._loaded
        return self._loaded

    def server_ssl_context(self) -> ssl.SSLContext | None:
        """The context to serve with, or None for plain HTTP (no ``tls_server_config``).

        Whether to serve TLS is decided at start, as exporter-toolkit does.
        """
        return _ReloadingContext(self) if self.current().tls is not None else None


class _ReloadingContext(ssl.SSLContext):
    """A server context that makes each connection's SSL object from the file as it is now.

    asyncio calls ``wrap_bio`` once per accepted connection: the equivalent of
    exporter-toolkit's GetConfigForClient, so certificates, client CAs, versions, ciphers
    and the client authentication policy all change without a restart. If the file or a
    certificate has become unreadable, the handshake fails (and the reason is logged).
    """

    source: WebConfigFile

    def __new__(cls, source: WebConfigFile) -> Self:
        context = super().__new__(cls, ssl.PROTOCOL_TLS_SERVER)
        context.source = source
        return context

    def wrap_bio(
        self,
        incoming: ssl.MemoryBIO,
        outgoing: ssl.MemoryBIO,
        server_side: bool = False,
        server_hostname: str | bytes | None = None,
        session: ssl.SSLSession | None = None,
    ) -> ssl.SSLObject:
        try:
            tls = self.source.current().tls
            if tls is None:
                raise WebConfigError(f"{self.source.path}: tls_server_config is gone")
            context = ssl_context(tls)
        except WebConfigError as error:
            log.error("TLS handshake refused: %s", error)
            context = _refusing()
        return context.wrap_bio(incoming, outgoing, server_side, server_hostname, session)


@cache
def _refusing() -> ssl.SSLContext:
    """A context whose every handshake ends with an internal-error alert."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.sni_callback = lambda *_: ssl.ALERT_DESCRIPTION_INTERNAL_ERROR
    return context


@cache
def _dummy_hash(cost: int) -> bytes:
    """A hash to check an unknown user's password against, as long to check as a real one."""
    return bcrypt.hashpw(b"not a password", bcrypt.gensalt(cost))


def _credentials(authorization: str | None) -> tuple[str, bytes] | None:
    """User and password of an ``Authorization: Basic`` header, as Go's Request.BasicAuth."""
    if authorization is None or authorization[:6].lower() != "basic ":
        return None
    try:
        decoded = base64.b64decode(authorization[6:], validate=True)
    except (binascii.Error, ValueError):
        return None
    user, colon, password = decoded.partition(b":")
    return (user.decode("utf-8", "surrogateescape"), password) if colon else None


class BasicAuth:
    """Checks credentials, one bcrypt at a time, caching each outcome.

    As exporter-toolkit's cache, the key covers user, stored hash and password, so a changed
    hash is checked again; unlike it, the key is a SHA-256 digest, so that passwords are not
    kept in memory, and refusals are cached apart from grants, so that a flood of wrong
    passwords cannot evict Prometheus' entry and make it queue behind them for bcrypt. Each
    cache is bounded: the oldest entries go first.
    """

    CACHE_SIZE = 100

    def __init__(self) -> None:
        self._granted: dict[bytes, None] = {}
        self._refused: dict[bytes, None] = {}
        self._lock = asyncio.Lock()

    async def allowed(self, config: WebConfig, authorization: str | None) -> bool:
        """Whether ``authorization`` names a user of ``config`` with the right password."""
        credentials = _credentials(authorization)
        if credentials is None:
            return False
        user, password = credentials
        hashed = config.users.get(user)
        stored = hashed if hashed is not None else b"unknown user, cost %d" % config.dummy_cost()
        key = hashlib.sha256(
            b"\0".join((user.encode("utf-8", "surrogateescape"), stored, password))
        ).digest()
        if key in self._granted:
            return True
        if key in self._refused:
            return False
        async with self._lock:
            granted = await asyncio.to_thread(_matches, password, hashed, config)
        cache = self._granted if granted else self._refused
        if len(cache) >= self.CACHE_SIZE:
            del cache[next(iter(cache))]
        cache[key] = None
        return granted


def _matches(password: bytes, hashed: bytes | None, config: WebConfig) -> bool:
    """Whether ``password`` matches ``hashed``, or for an unknown user (None) the time a
    wrong password takes."""
    checked = _dummy_hash(config.dummy_cost()) if hashed is None else hashed
    # Go's bcrypt refuses passwords longer than 72 bytes rather than truncate them.
    return len(password) <= 72 and bcrypt.checkpw(password, checked) and hashed is not None


_CONFIG = web.RequestKey("web_config", WebConfig)


def install(app: web.Application, source: WebConfigFile) -> None:
    """Basic authentication and the configured headers on every response of ``app``, as the
    file says at the time of the request (exporter-toolkit reads it for each request)."""
    app.middlewares.append(_middleware(source))
    app.on_response_prepare.append(_configured_headers)


def _middleware(source: WebConfigFile) -> Middleware:
    """Authentication, and the file read for the request kept for ``_configured_headers``."""
    auth = BasicAuth()

    @web.middleware
    async def web_config(request: web.Request, handler: Handler) -> web.StreamResponse:
        try:
            config = source.current()
        except WebConfigError as error:
            log.error("request refused: %s", error)
            return web.Response(status=500, text="Internal Server Error\n")
        request[_CONFIG] = config
        if config.users and not await auth.allowed(config, request.headers.get(hdrs.AUTHORIZATION)):
            return web.Response(
                status=401, text="Unauthorized\n", headers={hdrs.WWW_AUTHENTICATE: "Basic"}
            )
        return await handler(request)

    return web_config


async def _configured_headers(request: web.BaseRequest, response: web.StreamResponse) -> None:
    """The headers of the file read for this request, on every response to it, errors
    included (an ``on_response_prepare`` signal): a response streamed by its handler has
    sent its headers before a middleware sees it."""
    if (config := request.get(_CONFIG)) is not None:
        response.headers.update(config.headers)
