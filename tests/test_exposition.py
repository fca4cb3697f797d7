"""The fast encoder says exactly what prometheus-client's own encoders would say."""

import gzip

import pytest
from prometheus_client import CollectorRegistry
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.openmetrics.exposition import generate_latest as generate_openmetrics
from prometheus_client.openmetrics.parser import (
    text_string_to_metric_families as parse_openmetrics,
)
from prometheus_client.parser import text_string_to_metric_families as parse_text

from exporter.collector import Family, escape
from exporter.exposition import encode, encode_gzip, gunzip, gzip_member

NAMES = ["plain", 'quote " inside', "back\\slash", "literal \\n", "new\nline", "Chloé 日本", ""]
VALUES = [0, 1, -3, 0.1, 2 / 3, 1e20, 123456789012, 4.2e-7]


def _ours() -> list[Family]:
    return [
        Family(
            "chat_test_agent",
            'Help with "quotes", a back\\slash and a\nnewline.',
            [
                (f'site="s",agent="{escape(name)}"', value)
                for name, value in zip(NAMES, VALUES, strict=False)
            ],
        ),
        Family("chat_test_plain", "No labels.", [("", 2.5)]),
    ]


class _Static:
    def __init__(self, metrics: list[Metric]) -> None:
        self.metrics = metrics

    def collect(self) -> list[Metric]:
        return self.metrics


def _theirs() -> CollectorRegistry:
    """The same families, built the generic way."""
    agent = GaugeMetricFamily("chat_test_agent", _ours()[0].help, labels=["site", "agent"])
    for name, value in zip(NAMES, VALUES, strict=False):
        agent.add_metric(["s", name], value)
    registry = CollectorRegistry()
    registry.register(
        _Static([agent, GaugeMetricFamily("chat_test_plain", "No labels.", value=2.5)])
    )
    return registry


def _parsed(
    metrics: list[Metric],
) -> list[tuple[str, str, str, list[tuple[str, dict[str, str], float]]]]:
    return [
        (m.name, m.documentation, m.type, [(s.name, s.labels, s.value) for s in m.samples])
        for m in metrics
    ]


def _comments(text: str) -> list[str]:
    return [line for line in text.splitlines() if line.startswith("#")]


def test_text_format_matches_prometheus_client() -> None:
    ours = encode(_ours(), openmetrics=False).decode()
    theirs = generate_latest(_theirs()).decode()
    assert _comments(ours) == _comments(theirs)
    assert _parsed(list(parse_text(ours))) == _parsed(list(parse_text(theirs)))


def test_openmetrics_matches_prometheus_client() -> None:
    ours = encode(_ours(), openmetrics=True).decode() + "# EOF\n"
    theirs = generate_openmetrics(_theirs()).decode()  # type: ignore[no-untyped-call]
    assert _comments(ours) == _comments(theirs)
    ours_parsed = _parsed(list(parse_openmetrics(ours)))  # type: ignore[no-untyped-call]
    theirs_parsed = _parsed(list(parse_openmetrics(theirs)))  # type: ignore[no-untyped-call]
    assert ours_parsed == theirs_parsed


@pytest.mark.parametrize(
    ("value", "text"),
    [
        (0, "0"),
        (3, "3"),
        (2.5, "2.5"),
        (1e20, "1e+20"),
        (float("nan"), "NaN"),
        (float("-inf"), "-Inf"),
    ],
)
def test_numbers(value: float, text: str) -> None:
    assert (
        encode([Family("x", "h", [("", value)])], openmetrics=False)
        .decode()
        .endswith(f"\nx {text}\n")
    )


@pytest.mark.parametrize("openmetrics", [False, True])
def test_the_gzip_member_holds_the_text_and_members_join(openmetrics: bool) -> None:
    text = encode(_ours(), openmetrics)
    member = encode_gzip(_ours(), openmetrics)
    assert member[:2] == b"\x1f\x8b"  # a gzip header, not zlib's
    assert gzip.decompress(member) == text
    # Concatenated members read as one stream, the way a scrape's body is sent.
    joined = gzip_member(b"# before\n") + member + gzip_member(b"# after\n")
    assert gzip.decompress(joined) == b"# before\n" + text + b"# after\n"
    assert gunzip(member) == text


def test_a_text_of_many_chunks_is_compressed_in_order() -> None:
    """Families of several megabytes are deflated a chunk at a time by another thread: the
    member still holds the whole text, in order."""
    families = [
        Family(f"chat_test_{number}", "Many.", [(f'agent="{i}"', i * number) for i in range(5000)])
        for number in range(60)
    ]
    text = encode(families, openmetrics=False)
    assert len(text) > 2_000_000
    assert gunzip(encode_gzip(families, openmetrics=False)) == text
