"""The exporter's gauge families in Prometheus text format 0.0.4 or OpenMetrics 1.0.0.

prometheus-client chooses the format (``choose_encoder``) and encodes the process metrics;
the chat families are encoded here because at a few thousand agents a scrape holds a few
hundred thousand samples, and the generic encoder spends about 15 µs on each while this one,
reusing each agent's label text, spends about 1 µs (docs/performance.md). Both formats are
the same for gauges but for the escaping of HELP and OpenMetrics' final ``# EOF``, which the
caller appends with the process metrics.
"""

import math
import zlib
from collections.abc import Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor

from exporter.collector import Family

# Level 1: three times faster than the default on a large scrape, 20 % bigger.
GZIP_LEVEL = 1
# What one thread writes while the other deflates the previous chunk.
_CHUNK_BYTES = 1 << 20
# zlib's window size with a gzip header and trailer (RFC 1952) rather than zlib's own.
_GZIP_WBITS = 16 + zlib.MAX_WBITS


def _number(number: float) -> str:
    """Integers without a fraction, others as Python's shortest repr, special values by name."""
    if number.__class__ is int:  # most samples are counts: the quick way
        return str(number)
    value = float(number)
    if math.isfinite(value):
        return str(int(value)) if value.is_integer() and abs(value) < 2**53 else repr(value)
    return "NaN" if math.isnan(value) else ("+Inf" if value > 0 else "-Inf")


def _help(text: str, openmetrics: bool) -> str:
    escaped = text.replace("\\", "\\\\").replace("\n", "\\n")
    return escaped.replace('"', '\\"') if openmetrics else escaped


def _texts(families: Iterable[Family], openmetrics: bool) -> Iterator[bytes]:
    """Each family as exposition text, one at a time."""
    for family in families:
        name = family.name
        head = name + "{"
        lines = [f"# HELP {name} {_help(family.help, openmetrics)}\n# TYPE {name} gauge\n"]
        # Most values are counts: an int is written without calling _number.
        lines += [
            f"{head}{labels}}} {value if value.__class__ is int else _number(value)}\n"
            if labels
            else f"{name} {_number(value)}\n"
            for labels, value in family.samples
        ]
        yield "".join(lines).encode()


def encode(families: Iterable[Family], openmetrics: bool) -> bytes:
    """The families as exposition text, without OpenMetrics' ``# EOF``."""
    return b"".join(_texts(families, openmetrics))


def _gzip(texts: Iterable[bytes]) -> bytes:
    """``texts`` as one gzip member (RFC 1952), compressed in order.

    zlib lets go of the GIL while it deflates, so a second thread deflates each chunk while
    this one writes the next: the text and its compression take turns on two cores instead
    of one after the other.
    """
    compressor = _compressor()
    parts = []
    with ThreadPoolExecutor(1, thread_name_prefix="gzip") as deflating:
        deflated: Future[bytes] | None = None
        for chunk in _chunks(texts):
            if deflated is not None:  # one chunk at a time: zlib's calls stay in order
                parts.append(deflated.result())
            deflated = deflating.submit(compressor.compress, chunk)
        if deflated is not None:
            parts.append(deflated.result())
    parts.append(compressor.flush())
    return b"".join(parts)


def _compressor() -> "zlib._Compress":
    return zlib.compressobj(GZIP_LEVEL, zlib.DEFLATED, _GZIP_WBITS)


def _chunks(texts: Iterable[bytes]) -> Iterator[bytes]:
    """``texts`` joined into chunks of at least ``_CHUNK_BYTES`` (but the last): few enough
    hand-overs between the threads, small enough to keep both busy."""
    pending: list[bytes] = []
    size = 0
    for text in texts:
        pending.append(text)
        size += len(text)
        if size >= _CHUNK_BYTES:
            yield b"".join(pending)
            pending, size = [], 0
    if pending:
        yield b"".join(pending)


def gzip_member(text: bytes) -> bytes:
    """``text`` as one gzip member. Members concatenated are one gzip stream (RFC 1952 2.2),
    so a scrape's body can join members compressed apart. The text is already whole, so no
    second thread: there is nothing to write meanwhile."""
    compressor = _compressor()
    return compressor.compress(text) + compressor.flush()


def encode_gzip(families: Iterable[Family], openmetrics: bool) -> bytes:
    """``encode``'s text as one gzip member, compressed family by family: the whole text,
    several times the compressed size, is never held at once."""
    return _gzip(_texts(families, openmetrics))


def gunzip(member: bytes) -> bytes:
    """The text of a gzip member written here."""
    return zlib.decompress(member, _GZIP_WBITS)
