"""Fuzzing the configuration loader: whatever the file holds, the operator gets a valid
configuration or one short line saying what is wrong, quickly and in little memory; never a
traceback."""

import tracemalloc
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from tempfile import TemporaryDirectory

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from exporter.config import Config, ConfigError, load_config, parse_config

# Bounded so that the suite stays fast: a few seconds for each test.
FUZZ = settings(
    max_examples=300,
    deadline=timedelta(seconds=2),
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
LONGEST_ERROR = 400
MOST_MEMORY = 64 << 20

KEYS = [
    "database", "url", "url_file", "schema", "pool_size", "statement_timeout", "collection",
    "timeout", "scrape_timeout_offset", "min_interval", "signals", "handling_duration",
    "response_time", "sites", "satisfaction", "good_min", "poor_max", "objectives", "name",
    "metric", "target", "site", "agent_id", "currency", "chatwoot", "redis_url",
    "redis_url_file", "redis_key_prefix", "presence_seconds", "default_max_slots", "accounts",
]  # fmt: skip
WORDS = [
    *KEYS, "reference", "chatwoot", "turnover", "conversations", "EUR", "10s", "1m30s", "500ms",
    ".nan", ".inf", "-.inf", "-1", "0", "3", "1e999", "9" * 40, "null", "true", "~", "&a", "*a",
    "&b", "*b", "!!binary", "!!set", "!!python/object", "2026-13-45", "redis://r", "'", '"',
]  # fmt: skip
PUNCTUATION = [": ", ":", "- ", "-", "[", "]", "{", "}", ", ", "\n", "\n  ", "\n    ", " ", "#", "|", ">", "?"]  # fmt: skip


def _checked(run: Callable[[], Config]) -> None:
    """``run()`` gives a Config or a short one-line ConfigError, in bounded memory."""
    tracemalloc.start()
    try:
        config = run()
    except ConfigError as error:
        message = str(error)
        assert not {"\n", "\r"} & set(message), message
        assert 0 < len(message) <= LONGEST_ERROR, message[:LONGEST_ERROR]
    else:
        assert isinstance(config, Config)
    finally:
        _, peak = tracemalloc.get_traced_memory()
        tracemalloc.stop()
    assert peak < MOST_MEMORY, peak


yamlish = st.lists(st.sampled_from(WORDS + PUNCTUATION) | st.text(max_size=8), max_size=60).map(
    "".join
)


@FUZZ
@given(yamlish | st.text(max_size=300))
def test_any_text(text: str) -> None:
    _checked(lambda: parse_config(text))


scalars = (
    st.none()
    | st.booleans()
    | st.integers()
    | st.integers(min_value=-(10**400), max_value=10**400)
    | st.floats()
    | st.sampled_from(WORDS)
    | st.text(max_size=20)
    | st.binary(max_size=10)
    | st.dates()
)
structures = st.recursive(
    scalars,
    lambda children: (
        st.lists(children, max_size=5)
        | st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=10), children, max_size=5)
    ),
    max_leaves=40,
)
# Mostly the known sections, so that the values inside them are reached.
SECTIONS = ["database", "collection", "signals", "satisfaction", "sites", "objectives", "chatwoot"]
configurations = st.fixed_dictionaries({}, optional=dict.fromkeys(SECTIONS, structures))


@FUZZ
@given(configurations | structures)
def test_any_structure(structure: object) -> None:
    text = yaml.safe_dump(structure, allow_unicode=True)
    _checked(lambda: parse_config(text))


@FUZZ
@given(st.binary(max_size=400) | yamlish.map(lambda text: text.encode("utf-8") + b"\xff\xfe"))
def test_any_bytes(data: bytes) -> None:
    with TemporaryDirectory() as directory:
        path = Path(directory) / "config.yml"
        path.write_bytes(data)
        _checked(lambda: load_config(path))
