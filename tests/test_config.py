"""The configuration file: defaults, durations, and one-line errors for every mistake."""

import time
from dataclasses import replace
from pathlib import Path

import pytest

from exporter.config import (
    Config,
    ConfigError,
    database_url,
    duration,
    load_config,
    parse_config,
    with_redis_url,
)
from exporter.settings import ChatwootSettings, ConfiguredObjective, Settings, SiteSignals

FULL = """
database:
  url: postgresql://exporter:secret@db:5432/chat
  schema: reference
  pool_size: 3
  statement_timeout: 5s
collection:
  timeout: 8s
  scrape_timeout_offset: 250ms
  min_interval: 1m30s
signals:
  handling_duration: 15m
  response_time: 45
service_level:
  target: 20s
satisfaction:
  good_min: 5
  poor_max: 3
sites: [paris, lyon]
privacy:
  agent_names: false
  per_agent: false
"""


def test_defaults_without_a_file() -> None:
    config = load_config(None)
    assert config == Config()
    assert config.database.url is None
    assert config.collection.timeout == 10
    assert config.collection.scrape_timeout_offset == 0.5
    assert config.collection.min_interval == 0
    assert config.settings() == Settings(
        handling_seconds=1200, response_seconds=60, service_level_seconds=60, good_min=4, poor_max=2
    )


def test_every_key() -> None:
    config = parse_config(FULL)
    assert config.database.url == "postgresql://exporter:secret@db:5432/chat"
    assert config.database.pool_size == 3
    assert config.database.statement_timeout == 5
    assert config.collection.timeout == 8
    assert config.collection.scrape_timeout_offset == 0.25
    assert config.collection.min_interval == 90
    assert config.settings() == Settings(
        handling_seconds=900,
        response_seconds=45,
        service_level_seconds=20,
        good_min=5,
        poor_max=3,
        sites=("paris", "lyon"),
        agent_names=False,
        per_agent=False,
    )


CHATWOOT = """
database:
  url: postgresql://chatwoot_reader@db/chatwoot_production
  schema: chatwoot
chatwoot:
  redis_url: redis://redis:6379/0
  redis_key_prefix: "alfred:"
  presence_seconds: 30
  default_max_slots: 4
  accounts: [1, 3]
signals:
  handling_duration: 20m
  response_time: 1m
  sites:
    "Website FR": {handling_duration: 10m, response_time: 2m}
    "Voice": {response_time: 30s, service_level: 2m}
objectives:
  - name: daily contacts
    site: "Website FR"
    agent_id: 7
    metric: conversations
    target: 40
  - {name: sales, metric: turnover, target: 1500.5, currency: EUR}
"""


def test_the_chatwoot_example() -> None:
    config = parse_config(CHATWOOT)
    assert config.database.schema == "chatwoot"
    assert config.settings() == Settings(
        handling_seconds=1200,
        response_seconds=60,
        site_signals={
            "Website FR": SiteSignals(handling_seconds=600, response_seconds=120),
            "Voice": SiteSignals(
                handling_seconds=None, response_seconds=30, service_level_seconds=120
            ),
        },
        objectives=(
            ConfiguredObjective("daily contacts", "conversations", 40, "Website FR", 7),
            ConfiguredObjective("sales", "turnover", 1500.5, currency="EUR"),
        ),
        chatwoot=ChatwootSettings(
            redis_url="redis://redis:6379/0",
            redis_key_prefix="alfred:",
            presence_seconds=30,
            default_max_slots=4,
            accounts=(1, 3),
        ),
    )


@pytest.mark.parametrize(
    ("text", "seconds"), [(0, 0), (2.5, 2.5), ("500ms", 0.5), ("1h2m3s", 3723), ("1d", 86400)]
)
def test_durations(text: object, seconds: float) -> None:
    assert duration(text, "x") == seconds


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("databse:\n  url: x\n", "config: databse: unknown key in top level (known: database,"),
        ("database:\n  pool: 2\n", "config: database.pool: unknown key in database (known: url,"),
        ("database: [a]\n", "config: database: expected a mapping of keys, got ['a']"),
        ("collection:\n  timeout: soon\n", "config: collection.timeout: expected a duration like 10s, got 'soon'"),
        ("collection:\n  timeout: -1\n", "config: collection.timeout: must not be negative, got -1"),
        ("collection:\n  timeout: 0s\n", "config: collection.timeout: must be longer than 0s, got '0s'"),
        ("collection:\n  timeout: true\n", "config: collection.timeout: expected a duration like 10s, got True"),
        ("database:\n  pool_size: 0\n", "config: database.pool_size: expected a whole number of at least 1, got 0"),
        ("database:\n  schema: zendesk\n", "config: database.schema: unknown schema 'zendesk' (known: chatwoot, reference)"),
        ("signals:\n  sites: [paris]\n", "config: signals.sites: expected a mapping of site names, got ['paris']"),
        ("signals:\n  sites:\n    paris: {response: 1m}\n", "config: signals.sites.paris.response: unknown key in signals.sites.paris (known: handling_duration, response_time, service_level)"),
        ("signals:\n  sites:\n    paris: {service_level: -5s}\n", "config: signals.sites.paris.service_level: expected a duration like 10s, got '-5s'"),
        ("service_level: {target: 0}\n", "config: service_level.target: must be longer than 0s, got 0"),
        ("signals:\n  sites:\n    paris: {response_time: 0s}\n", "config: signals.sites.paris.response_time: must be longer than 0s, got '0s'"),
        ("objectives: {name: x}\n", "config: objectives: expected a list of objectives, got {'name': 'x'}"),
        ("objectives:\n  - {name: x, metric: conversations}\n", "config: objectives[0]: name, metric and target are required"),
        ("objectives:\n  - {name: x, metric: nps, target: 1}\n", "config: objectives[0].metric: unknown metric 'nps' (known: conversations, transactions,"),
        ("objectives:\n  - {name: x, metric: turnover, target: 1, currency: euro}\n", "config: objectives[0].currency: expected an ISO 4217 code like EUR, got 'euro'"),
        ("objectives:\n  - {name: x, metric: conversations, target: 1, currency: EUR}\n", "config: objectives[0].currency: only a turnover objective has a currency"),
        ("objectives:\n  - {name: x, metric: conversations, target: .nan}\n", "config: objectives[0].target: expected a finite number, got nan"),
        ("objectives:\n  - {name: x, metric: conversations, target: 1, agent_id: 0}\n", "config: objectives[0].agent_id: expected an id (a whole number of at least 1), got 0"),
        ("chatwoot:\n  redis_url: http://redis\n", "config: chatwoot.redis_url: expected a redis://, rediss:// or unix:// URL"),
        ("chatwoot:\n  accounts: [1, x]\n", "config: chatwoot.accounts[1]: expected an id (a whole number of at least 1), got 'x'"),
        ("chatwoot:\n  default_max_slots: 0\n", "config: chatwoot.default_max_slots: expected a whole number of at least 1, got 0"),
        ("satisfaction:\n  good_min: 6\n", "config: satisfaction.good_min: expected a score from 1 to 5, got 6"),
        ("satisfaction:\n  good_min: 3\n  poor_max: 3\n", "config: satisfaction.poor_max (3) must be below satisfaction.good_min (3)"),
        ("sites: paris\n", "config: sites: expected a list of site names, got 'paris'"),
        ("privacy:\n  agent_names: 'false'\n", "config: privacy.agent_names: expected true or false, got 'false'"),
        ("privacy:\n  per_agent: 0\n", "config: privacy.per_agent: expected true or false, got 0"),
        ("privacy:\n  per_agent: null\n", "config: privacy.per_agent: expected true or false, got None"),
        ("privacy:\n  names: false\n", "config: privacy.names: unknown key in privacy (known: agent_names, per_agent)"),
        ("privacy:\n  per_agent: false\nobjectives:\n  - {name: x, metric: conversations, target: 1}\n  - {name: y, metric: conversations, target: 1, agent_id: 7}\n", "config: objectives[1].agent_id: privacy.per_agent is false, so no agent objective is published"),
        ("sites: [paris, '']\n", "config: sites[1]: expected a non-empty string, got ''"),
        ("database:\n\turl: x\n", "config: found character '\\t' that cannot start any token at line 2, column 1"),
        ("- a\n- b\n", "config: top level: expected a mapping of keys, got ['a', 'b']"),
        ("collection:\n  timeout: .nan\n", "config: collection.timeout: expected a finite duration, got nan"),
        ("collection:\n  min_interval: .inf\n", "config: collection.min_interval: expected a finite duration, got inf"),
        ("collection:\n  min_interval: 1" + "0" * 400 + "\n", "config: collection.min_interval: expected a finite duration, got 100000000000000000...0000000000000000000"),
        ("database:\n  statement_timeout: " + "9" * 400 + "s\n", "config: database.statement_timeout: expected a finite duration, got '99999999999999999999999999"),
        ("objectives:\n  - {name: x, metric: conversations, target: 1" + "0" * 400 + "}\n", "config: objectives[0].target: expected a finite number, got 100000000000000000...0000000000000000000"),
        ("database: {url: a, url_file: b}\n", "config: database.url and database.url_file: give one or the other"),
        ("chatwoot: {redis_url: 'redis://r', redis_url_file: b}\n", "config: chatwoot.redis_url and chatwoot.redis_url_file: give one or the other"),
        ("objectives:\n  - {name: x, metric: conversations, target: 1}\n  - {name: x, metric: conversations, target: 2, site: paris}\n", "config: objectives[1]: same name, metric and agent as objectives[0] on a site they share; give it another name"),
        ("objectives:\n  - {name: x, metric: turnover, target: 1, currency: EUR}\n  - {name: x, metric: turnover, target: 2, currency: USD}\n", "config: objectives[1]: same name, metric and agent as objectives[0]"),
        ("collection:\n  timeout: 2026-13-01\n", "config: invalid YAML value: month must be in 1..12"),
        ("[" * 5000 + "]" * 5000, "config: nested too deeply to be a configuration"),
        ('"a\\nb": 1\n', "config: 'a\\nb': unknown key in top level"),
    ],
)  # fmt: skip
def test_mistakes_are_named_in_one_line(text: str, message: str) -> None:
    with pytest.raises(ConfigError) as error:
        parse_config(text)
    assert str(error.value).startswith(message)
    assert "\n" not in str(error.value)


def test_the_readme_example_is_valid_and_shows_the_defaults() -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text()
    example = readme.split("<!-- config-example -->\n```yaml\n", 1)[1].split("```", 1)[0]
    config = parse_config(example)
    assert config.database.url == "postgresql://chat_exporter:secret@db:5432/chat"
    assert replace(config, database=replace(config.database, url=None)) == Config()


def test_an_unreadable_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match=r"missing\.yml: cannot read: No such file or directory"):
        load_config(tmp_path / "missing.yml")


def test_an_empty_file_means_defaults(tmp_path: Path) -> None:
    path = tmp_path / "empty.yml"
    path.write_text("")
    assert load_config(path) == Config()


def test_objectives_of_other_scopes_may_share_a_name() -> None:
    config = parse_config(
        "objectives:\n"
        "  - {name: x, metric: conversations, target: 1, site: paris}\n"
        "  - {name: x, metric: conversations, target: 2, site: lyon}\n"
        "  - {name: x, metric: conversations, target: 3, site: paris, agent_id: 7}\n"
        "  - {name: x, metric: turnover, target: 4}\n"
    )
    assert len(config.objectives) == 4


# A billion 'x' in a few hundred bytes: nine levels of ten aliases to the level below.
BOMB = (
    "[&a [x, x, x, x, x, x, x, x, x, x], "
    + ", ".join(f"&{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 10)}]" for i in range(8))
    + "]"
)


@pytest.mark.parametrize(
    "template",
    [
        "database: {}",
        "sites: [{}]",
        "objectives: [{}]",
        "collection: {{timeout: {}}}",
        "chatwoot: {{accounts: [{}]}}",
        "signals: {{sites: {{paris: {}}}}}",
    ],
)
def test_an_alias_bomb_gives_a_short_line_quickly(template: str) -> None:
    started = time.monotonic()
    with pytest.raises(ConfigError) as error:
        parse_config(template.format(BOMB))
    assert time.monotonic() - started < 1
    assert len(str(error.value)) < 300, str(error.value)[:300]
    assert "\n" not in str(error.value)


def test_files_that_are_not_configurations_are_refused_quickly(tmp_path: Path) -> None:
    started = time.monotonic()
    with pytest.raises(
        ConfigError, match=r"^/dev/zero: larger than 1024 KiB, not a configuration file$"
    ):
        load_config(Path("/dev/zero"))
    assert time.monotonic() - started < 1
    latin1 = tmp_path / "latin1.yml"
    latin1.write_bytes(b"sites: [Caf\xe9]\n")
    with pytest.raises(ConfigError, match=r"latin1\.yml: not UTF-8 text \(byte 11\)$"):
        load_config(latin1)
    with pytest.raises(ConfigError, match=r": cannot read: Is a directory$"):
        load_config(tmp_path)


def test_url_files_are_read_beside_the_configuration(tmp_path: Path) -> None:
    (tmp_path / "secrets").mkdir()
    (tmp_path / "secrets" / "db").write_text("postgresql://u:p@db/chat\n")
    (tmp_path / "secrets" / "redis").write_text("redis://:pw@redis/0\r\n")
    path = tmp_path / "config.yml"
    path.write_text("database: {url_file: secrets/db}\nchatwoot: {redis_url_file: secrets/redis}\n")
    config = with_redis_url(load_config(path), None)
    assert (
        database_url(config, flag=None, flag_file=None, environment=None)
        == "postgresql://u:p@db/chat"
    )
    assert (
        database_url(config, flag=None, flag_file=None, environment="sqlite:///env.db")
        == "sqlite:///env.db"
    )
    assert (
        database_url(
            config, flag="sqlite:///flag.db", flag_file=None, environment="sqlite:///env.db"
        )
        == "sqlite:///flag.db"
    )
    assert config.chatwoot.redis_url == "redis://:pw@redis/0"
    (tmp_path / "other").write_text("redis://other/1")
    assert (
        with_redis_url(load_config(path), tmp_path / "other").chatwoot.redis_url
        == "redis://other/1"
    )
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match=r"empty: empty, expected a URL$"):
        database_url(config, flag=None, flag_file=tmp_path / "empty", environment=None)
    (tmp_path / "http").write_text("http://redis\n")
    with pytest.raises(ConfigError, match=r"http: expected a redis://, rediss:// or unix:// URL$"):
        with_redis_url(config, tmp_path / "http")
    with pytest.raises(
        ConfigError, match=r"^--database.url and --database.url-file: give one or the other$"
    ):
        database_url(config, flag="sqlite:///x.db", flag_file=tmp_path / "other", environment=None)
