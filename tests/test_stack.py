"""The composed stack holds together, checked without a Docker engine.

docker-compose.yml, the Dockerfile, the Prometheus and Alertmanager configurations and
Grafana's provisioning name each other by service name, port and path; these tests read them
all and check that every such reference lands. The PostgreSQL init script runs for real on a
private server, and promtool checks the Prometheus configuration with its rule files.
"""

import asyncio
import json
import re
import shutil
import subprocess
import tomllib
import urllib.parse
from datetime import UTC, datetime
from functools import partial
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml
from redis.asyncio import Redis
from redis.exceptions import AuthenticationError, NoPermissionError

from dashboards import live_conversations
from exporter.cli import URL_ENV
from exporter.settings import ChatwootSettings
from exporter.sources.chatwoot import REQUIRED
from exporter.sources.chatwoot_presence import read_presence
from exporter.web import DEFAULT_PORT
from tests.chatwoot import READ_ONLY_COMMANDS, Chatwoot
from tests.grafana import expand, grafana_sql
from tests.servers import (
    Postgres,
    exporter,
    free_port,
    installed,
    listening,
    run_cli,
    running,
    succeeds,
    throwaway_postgres,
)

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROMETHEUS: dict[str, Any] = yaml.safe_load((ROOT / "alerts" / "prometheus.yml").read_text())
ALERTMANAGER: dict[str, Any] = yaml.safe_load((ROOT / "alerts" / "alertmanager.yml").read_text())
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "10-chat-roles.sh"
CHATWOOT_INIT_SCRIPT = ROOT / "deploy" / "chatwoot" / "postgres" / "10-chatwoot.sh"
README_TEXT = (ROOT / "README.md").read_text()
CHATWOOT_SERVICES = {
    "chatwoot-postgres",
    "chatwoot-redis",
    "chatwoot-demo",
    "chatwoot-exporter",
    "chatwoot-grafana",
}
# Each Grafana, and the PostgreSQL service its SQL data source reads.
GRAFANA_POSTGRES = {"grafana": "postgres", "chatwoot-grafana": "chatwoot-postgres"}

# Where each service listens inside the stack's network.
SERVICE_PORTS = {
    "postgres": 5432,
    "demo": DEFAULT_PORT,
    "exporter": DEFAULT_PORT,
    "prometheus": 9090,
    "alertmanager": 9093,
    "alert-webhook": 9095,
    "grafana": 3000,
    "chatwoot-postgres": 5432,
    "chatwoot-redis": 6379,
    "chatwoot-demo": DEFAULT_PORT,
    "chatwoot-exporter": DEFAULT_PORT,
    "chatwoot-grafana": 3000,
}
VARIABLE = re.compile(r"\$\{(?P<name>[A-Z_]+):-(?P<default>[^}]+)\}")
URL_PASSWORD = re.compile(r"://[^:/@\s]+:(?P<password>[^@\s]+)@")


def _provisioning(kind: str) -> list[dict[str, Any]]:
    files = sorted((ROOT / "provisioning" / kind).glob("*.yaml"))
    assert files, f"no provisioning/{kind}/*.yaml"
    return [yaml.safe_load(path.read_text()) for path in files]


def _address(url: str) -> tuple[str, int]:
    """Host and port of ``http://host:port/…`` or of a bare ``host:port``."""
    parsed = urllib.parse.urlsplit(url if "://" in url else f"tcp://{url}")
    assert parsed.hostname is not None, url
    assert parsed.port is not None, url
    return parsed.hostname, parsed.port


def _lands(url: str) -> str:
    """The service ``url`` points at, after checking that the service listens on its port."""
    host, port = _address(url)
    assert host in SERVICES, f"{url}: no service {host!r}"
    assert port == SERVICE_PORTS[host], f"{url}: {host} listens on {SERVICE_PORTS[host]}"
    return host


def _mounts(service: str) -> list[tuple[str, str]]:
    """(source, target) of a service's volumes, short syntax, without the mode."""
    mounts = []
    for volume in SERVICES[service].get("volumes", []):
        source, target = str(volume).split(":")[:2]
        mounts.append((source, target))
    return mounts


def _mounted_at(service: str, source: str) -> str:
    [target] = [target for host, target in _mounts(service) if host == source]
    return target


def _mounted_from(service: str, target: str) -> Path:
    [source] = [host for host, inside in _mounts(service) if inside == target]
    return ROOT / source


def _flag(service: str, name: str) -> str:
    """The value of the ``name=value`` argument of a service's command."""
    [value] = [arg for arg in SERVICES[service]["command"] if arg.startswith(f"{name}=")]
    return str(value).split("=", 1)[1]


def _dockerfile() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) of the Dockerfile, continuation lines joined."""
    text = re.sub(r"\\\n", " ", (ROOT / "Dockerfile").read_text())
    lines = [line.strip() for line in text.splitlines()]
    return [
        (line.split(None, 1)[0].upper(), line.split(None, 1)[1])
        for line in lines
        if line and not line.startswith("#")
    ]


def _final_stage() -> list[tuple[str, str]]:
    instructions = _dockerfile()
    last_from = max(i for i, (name, _) in enumerate(instructions) if name == "FROM")
    return instructions[last_from:]


def _has_healthcheck(service: str) -> bool:
    if "healthcheck" in SERVICES[service]:
        return True
    built = "build" in SERVICES[service]
    return built and any(name == "HEALTHCHECK" for name, _ in _final_stage())


def test_the_stack_has_its_services() -> None:
    assert set(SERVICES) == set(SERVICE_PORTS)


def test_the_chatwoot_services_run_only_in_their_profile() -> None:
    profiles = {name: service.get("profiles") for name, service in SERVICES.items()}
    assert {name for name, profile in profiles.items() if profile} == CHATWOOT_SERVICES
    assert all(profiles[name] == ["chatwoot"] for name in CHATWOOT_SERVICES)
    # The default services neither wait for nor name a Chatwoot one.
    for name in set(SERVICES) - CHATWOOT_SERVICES:
        assert not set(SERVICES[name].get("depends_on", {})) & CHATWOOT_SERVICES, name


def test_published_ports_are_where_the_services_listen() -> None:
    published = {
        name: [int(port.split(":")[-1]) for port in service.get("ports", [])]
        for name, service in SERVICES.items()
    }
    assert published == {
        "postgres": [],
        "demo": [],
        "exporter": [DEFAULT_PORT],
        "prometheus": [9090],
        "alertmanager": [9093],
        "alert-webhook": [],
        "grafana": [3000],
        "chatwoot-postgres": [],
        "chatwoot-redis": [],
        "chatwoot-demo": [],
        "chatwoot-exporter": [DEFAULT_PORT],
        "chatwoot-grafana": [3000],
    }
    # Only this machine reaches them: the passwords' defaults are no secrets.
    ports = [port for service in SERVICES.values() for port in service.get("ports", [])]
    assert all(port.startswith("127.0.0.1:") for port in ports)
    # No service moves off its default port, which SERVICE_PORTS assumes.
    commands = [" ".join(service.get("command", [])) for service in SERVICES.values()]
    assert not any("listen-address" in command for command in commands)


def test_every_bind_mount_exists_and_every_volume_is_declared() -> None:
    declared = set(COMPOSE["volumes"])
    used = set()
    for name in SERVICES:
        for source, _ in _mounts(name):
            if source.startswith("."):
                assert (ROOT / source).exists(), f"{name}: {source} is not in the repository"
            else:
                assert source in declared, f"{name}: volume {source} is not declared"
                used.add(source)
    assert used == declared


def test_images_are_pinned() -> None:
    images = [service["image"] for service in SERVICES.values() if "build" not in service]
    images += [arguments.split()[0] for name, arguments in _dockerfile() if name == "FROM"]
    for image in images:
        name, _, tag = image.rpartition(":")
        assert name, f"{image}: no tag"
        assert "/" not in tag, f"{image}: no tag"
        assert tag != "latest", image
        assert re.search(r"\d", tag), f"{image}: not a version"


def test_demo_and_exporter_run_the_image_built_here() -> None:
    for name in ("demo", "exporter", "chatwoot-demo", "chatwoot-exporter"):
        assert SERVICES[name]["build"] == "."
        assert SERVICES[name]["image"] == SERVICES["exporter"]["image"]


def test_the_demo_writes_and_the_exporter_reads_with_its_own_role() -> None:
    database = SERVICES["postgres"]["environment"]["POSTGRES_DB"]
    command = SERVICES["demo"]["command"]
    assert command[:2] == ["demo", "--database.url"]
    writer = urllib.parse.urlsplit(command[2])
    reader = urllib.parse.urlsplit(SERVICES["exporter"]["environment"][URL_ENV])
    for url, user in [(writer, "chat_writer"), (reader, "chat_exporter")]:
        assert (url.scheme, url.username, url.path) == ("postgresql", user, f"/{database}")
        assert _lands(f"{url.hostname}:{url.port}") == "postgres"
        assert f"CREATE ROLE {user} LOGIN" in INIT_SCRIPT.read_text()
    assert "command" not in SERVICES["exporter"], "the exporter serves, its default command"


def _config_file(service: str) -> dict[str, Any]:
    """The configuration file a service's command names, from the compose file's configs."""
    command = SERVICES[service]["command"]
    path = command[command.index("--config.file") + 1]
    [source] = [c["source"] for c in SERVICES[service]["configs"] if c["target"] == path]
    config: dict[str, Any] = yaml.safe_load(COMPOSE["configs"][source]["content"])
    return config


def test_the_chatwoot_demo_writes_and_its_exporter_reads_with_their_own_users() -> None:
    database = SERVICES["chatwoot-postgres"]["environment"]["POSTGRES_DB"]
    demo = SERVICES["chatwoot-demo"]["command"]
    serve = SERVICES["chatwoot-exporter"]["command"]
    assert demo[0] == "demo"
    assert serve[0] == "serve"
    for command in (demo, serve):
        assert command[command.index("--database.schema") + 1] == "chatwoot"
    writer = urllib.parse.urlsplit(demo[demo.index("--database.url") + 1])
    reader = urllib.parse.urlsplit(SERVICES["chatwoot-exporter"]["environment"][URL_ENV])
    for url, user in [(writer, "chatwoot"), (reader, "chat_exporter")]:
        assert (url.scheme, url.username, url.path) == ("postgresql", user, f"/{database}")
        assert _lands(f"{url.hostname}:{url.port}") == "chatwoot-postgres"
        assert f"CREATE ROLE {user} LOGIN" in CHATWOOT_INIT_SCRIPT.read_text()
    for service, user in [("chatwoot-demo", "chat_writer"), ("chatwoot-exporter", "chat_exporter")]:
        redis = urllib.parse.urlsplit(_config_file(service)["chatwoot"]["redis_url"])
        assert (redis.scheme, redis.username) == ("redis", user)
        assert _lands(f"{redis.hostname}:{redis.port}") == "chatwoot-redis"
        assert "redis_key_prefix" not in _config_file(service)["chatwoot"], "Chatwoot's alfred:"
    assert _mounted_at("chatwoot-postgres", "./deploy/chatwoot/postgres") == (
        "/docker-entrypoint-initdb.d"
    )
    schema_file = SERVICES["chatwoot-postgres"]["environment"]["CHATWOOT_SCHEMA_FILE"]
    assert _mounted_at("chatwoot-postgres", "./exporter/chatwoot_schema.sql") == schema_file


def _redis_users() -> dict[str, list[str]]:
    """The ACL rules of each Redis user that the chatwoot-redis command declares."""
    command = [str(arg) for arg in SERVICES["chatwoot-redis"]["command"]]
    users = {}
    for start, arg in enumerate(command):
        if arg == "--user":
            rest = command[start + 1 :]
            end = next((i for i, rule in enumerate(rest) if rule.startswith("--")), len(rest))
            users[rest[0]] = rest[1:end]
    return users


def test_the_exporter_s_redis_user_may_only_read_the_presence_keys() -> None:
    users = _redis_users()
    assert set(users) == {"default", "chat_writer", "chat_exporter"}
    assert users["default"] == ["off"]
    rules = users["chat_exporter"]
    assert [rule for rule in rules if rule.startswith("~")] == ["~alfred:ONLINE_*"]
    assert [rule for rule in rules if rule[0] in "+-"] == ["-@all", *READ_ONLY_COMMANDS]
    assert "resetchannels" in rules


def test_depends_on_waits_for_health_where_there_is_a_healthcheck() -> None:
    for name, service in SERVICES.items():
        for dependency, condition in service.get("depends_on", {}).items():
            expected = "service_healthy" if _has_healthcheck(dependency) else "service_started"
            assert condition == {"condition": expected}, f"{name} -> {dependency}"
    assert _has_healthcheck("postgres")
    assert _has_healthcheck("demo")


def test_prometheus_scrapes_the_exporter_and_alerts_the_alertmanager() -> None:
    [job] = PROMETHEUS["scrape_configs"]
    assert job["job_name"] == "chat"
    [targets] = [config["targets"] for config in job["static_configs"]]
    assert [_lands(target) for target in targets] == ["exporter"]
    # The Chatwoot profile's exporter, by DNS: no target at all without that profile.
    [dns] = job["dns_sd_configs"]
    [name] = dns["names"]
    assert dns["type"] == "A"
    assert _lands(f"{name}:{dns['port']}") == "chatwoot-exporter"
    [alerting] = PROMETHEUS["alerting"]["alertmanagers"]
    [targets] = [config["targets"] for config in alerting["static_configs"]]
    assert [_lands(target) for target in targets] == ["alertmanager"]


def test_prometheus_and_alertmanager_read_the_repository_configurations() -> None:
    config = PurePosixPath(_flag("prometheus", "--config.file"))
    folder = _mounted_at("prometheus", "./alerts")
    assert config.parent == PurePosixPath(folder)
    assert (ROOT / "alerts" / config.name).is_file()
    rule_files = [
        path for pattern in PROMETHEUS["rule_files"] for path in (ROOT / "alerts").glob(pattern)
    ]
    assert rule_files, "the rule_files patterns match no file in alerts/"
    assert _flag("alertmanager", "--config.file") == _mounted_at(
        "alertmanager", "./alerts/alertmanager.yml"
    )


def test_alertmanager_notifies_the_webhook_service() -> None:
    urls = [
        hook["url"]
        for receiver in ALERTMANAGER["receivers"]
        for hook in receiver.get("webhook_configs", [])
    ]
    assert urls
    assert {_lands(url) for url in urls} == {"alert-webhook"}
    command = SERVICES["alert-webhook"]["command"]
    script = PurePosixPath(command[1])
    assert (script.name, command[2]) == ("alert_webhook.py", f":{SERVICE_PORTS['alert-webhook']}")
    assert _mounted_at("alert-webhook", "./deploy/alert_webhook.py") == str(script)


@pytest.mark.parametrize("grafana", sorted(GRAFANA_POSTGRES))
def test_grafana_datasources_reach_the_services(grafana: str) -> None:
    """As this Grafana reads the data sources: expanded with its environment."""
    environment = SERVICES[grafana]["environment"]
    datasources = {
        datasource["uid"]: expand(datasource, environment)
        for provisioned in _provisioning("datasources")
        for datasource in provisioned["datasources"]
    }
    services = {uid: _lands(datasource["url"]) for uid, datasource in datasources.items()}
    postgres = GRAFANA_POSTGRES[grafana]
    assert services == {
        "chat-prometheus": "prometheus",
        "chat-alertmanager": "alertmanager",
        "chat-database": postgres,
    }
    # Each runs whenever this Grafana does (no profile, or Grafana's), and Grafana waits for it.
    for service in services.values():
        assert SERVICES[service].get("profiles") in (None, SERVICES[grafana].get("profiles"))
    assert set(SERVICES[grafana]["depends_on"]) == set(services.values())
    scrape_interval = PROMETHEUS["global"]["scrape_interval"]
    assert datasources["chat-prometheus"]["jsonData"]["timeInterval"] == scrape_interval
    database = datasources["chat-database"]
    assert database["jsonData"]["database"] == SERVICES[postgres]["environment"]["POSTGRES_DB"]
    # The role, and its password from the same variable as the init script that creates it.
    init = _mounted_from(postgres, "/docker-entrypoint-initdb.d")
    scripts = "".join(path.read_text() for path in sorted(init.iterdir()))
    assert f"CREATE ROLE {database['user']} LOGIN" in scripts
    password = database["secureJsonData"]["password"]
    database_environment = SERVICES[postgres]["environment"]
    [variable] = [name for name, value in database_environment.items() if value == password]
    assert f"${{{variable}:?is not set}}" in scripts


def test_the_chatwoot_grafana_differs_from_grafana_only_by_its_database() -> None:
    grafana, chatwoot = SERVICES["grafana"], SERVICES["chatwoot-grafana"]
    assert (chatwoot["image"], chatwoot["restart"]) == (grafana["image"], grafana["restart"])
    differ = {
        name
        for name in grafana["environment"].keys() | chatwoot["environment"].keys()
        if grafana["environment"].get(name) != chatwoot["environment"].get(name)
    }
    assert differ == {"CHAT_GRAFANA_DB_ADDRESS", "CHAT_GRAFANA_DB_NAME"}


def test_prometheus_datasource_describes_the_prometheus_of_the_stack() -> None:
    [prometheus] = [
        datasource
        for provisioned in _provisioning("datasources")
        for datasource in provisioned["datasources"]
        if datasource["type"] == "prometheus"
    ]
    image_version = SERVICES["prometheus"]["image"].rpartition(":v")[2]
    assert prometheus["jsonData"]["prometheusVersion"] == image_version


def _dashboards_found(service: str, folder: PurePosixPath) -> dict[str, Path]:
    """What a file provider reading ``folder`` (recursively) finds in a service: the path
    under ``folder`` of each dashboard file, and the repository's file mounted there."""
    found = {}
    for source, target in _mounts(service):
        if not PurePosixPath(target).is_relative_to(folder):
            continue
        under = PurePosixPath(target).relative_to(folder)
        if (ROOT / source).is_dir():
            for path in (ROOT / source).rglob("*.json"):
                found[str(under / path.relative_to(ROOT / source))] = path.resolve()
        else:
            found[str(under)] = (ROOT / source).resolve()
    return found


@pytest.mark.parametrize(
    ("grafana", "drill_down"),
    [("grafana", "json"), ("chatwoot-grafana", "json-chatwoot")],
)
def test_grafana_loads_the_dashboards_from_where_they_are_mounted(
    grafana: str, drill_down: str
) -> None:
    [provider] = [
        p for provisioned in _provisioning("dashboards") for p in provisioned["providers"]
    ]
    folder = PurePosixPath(provider["options"]["path"])
    assert _mounted_at(grafana, "./provisioning") == "/etc/grafana/provisioning"
    found = _dashboards_found(grafana, folder)
    dashboards = ROOT / "dashboards"
    assert found == {
        "supervision.json": dashboards / "json" / "supervision.json",
        "live-conversations.json": dashboards / drill_down / "live-conversations.json",
    }
    assert all(path.is_file() for path in found.values())
    # Of two dashboards with the same uid, Grafana would keep one.
    uids = [json.loads(path.read_text())["uid"] for path in found.values()]
    assert len(set(uids)) == len(uids)
    home = PurePosixPath(
        SERVICES[grafana]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    )
    assert home.parent == folder
    assert found[home.name] == dashboards / "json" / "supervision.json"


def _secrets() -> list[tuple[str, str]]:
    """(where, value) of every password the compose file passes: variables and URLs."""
    found = []
    for name, service in SERVICES.items():
        environment = service.get("environment", {})
        for key, value in environment.items():
            if "PASSWORD" in key:
                found.append((f"{name} {key}", str(value)))
        for text in [*map(str, environment.values()), *service.get("command", [])]:
            found += [(f"{name} {text}", m["password"]) for m in URL_PASSWORD.finditer(text)]
            if text.startswith(">"):  # a Redis ACL password
                found.append((f"{name} {text}", text[1:]))
    for name, config in COMPOSE.get("configs", {}).items():
        content = config["content"]
        found += [(f"config {name}", m["password"]) for m in URL_PASSWORD.finditer(content)]
    return found


def test_passwords_are_variables_with_documented_local_defaults() -> None:
    documented = dict(re.findall(r"^#\s+([A-Z_]+)\s+default (\S+)", COMPOSE_TEXT, re.M))
    used = {}
    for where, value in _secrets():
        variable = VARIABLE.fullmatch(value)
        assert variable, f"{where}: a password that is not ${{VARIABLE:-default}}"
        assert documented.get(variable["name"]) == variable["default"], where
        used[variable["name"]] = variable["default"]
    assert used == documented


def test_the_exporter_image() -> None:
    stages = [arguments for name, arguments in _dockerfile() if name == "FROM"]
    assert len(stages) >= 2, "a build stage, and a runtime stage without the build tools"
    final = dict(_final_stage())
    assert final["USER"].split(":")[0] not in ("root", "0")
    assert final["EXPOSE"] == str(DEFAULT_PORT)
    assert f"127.0.0.1:{DEFAULT_PORT}/-/healthy" in final["HEALTHCHECK"]
    scripts = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["scripts"]
    assert final["ENTRYPOINT"] == f'["{next(iter(scripts))}"]'


def test_the_docker_context_leaves_out_local_state() -> None:
    ignored = set((ROOT / ".dockerignore").read_text().splitlines())
    assert {".git", ".venv", "*.db", "bench/results"} <= ignored


def test_promtool_accepts_the_prometheus_configuration_and_its_rules() -> None:
    promtool = installed("promtool")
    output = succeeds(promtool, "check", "config", str(ROOT / "alerts" / "prometheus.yml"))
    assert re.search(r"SUCCESS: [1-9]\d* rule files found", output), output


@pytest.mark.slow
def _image_environment(server: Postgres, database: str, **variables: str) -> dict[str, str]:
    """The environment the postgres image gives its init scripts, pointed at ``server``."""
    return {
        "PATH": f"{server.bindir}:/usr/bin:/bin",
        "PGHOST": "127.0.0.1",
        "PGPORT": str(server.port),
        "POSTGRES_USER": "postgres",
        "POSTGRES_DB": database,
        **variables,
    }


def _psql(environment: dict[str, str], user: str, sql: str) -> subprocess.CompletedProcess[str]:
    """``sql`` run as ``user`` on the image's database, its rows unaligned."""
    database = environment["POSTGRES_DB"]
    return subprocess.run(
        ["psql", "-U", user, "-d", database, "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
        capture_output=True,
        text=True,
        env=environment,
        check=False,
    )


def test_the_init_script_gives_the_readers_select_only(tmp_path: Path) -> None:
    """As the postgres image runs it; then the demo's role creates the tables."""
    passwords = {
        "CHAT_WRITER_DB_PASSWORD": "w",
        "CHAT_EXPORTER_DB_PASSWORD": "e",
        "CHAT_GRAFANA_DB_PASSWORD": "g",
    }
    with throwaway_postgres() as server:
        environment = _image_environment(server, "chat", **passwords)
        psql = partial(_psql, environment)

        subprocess.run(
            ["psql", "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE chat"],
            env=environment,
            check=True,
            capture_output=True,
        )
        script = subprocess.run(
            ["bash", str(INIT_SCRIPT)], env=environment, capture_output=True, text=True, check=False
        )
        assert script.returncode == 0, script.stderr
        with_password = psql(
            "postgres",
            "SELECT count(*) FROM pg_authid WHERE rolpassword IS NOT NULL AND rolname IN "
            "('chat_writer', 'chat_exporter', 'grafana_reader')",
        )
        assert with_password.stdout.strip() == "3"

        base = f"127.0.0.1:{server.port}/chat"
        created = run_cli("init-db", "--database.url", f"postgresql://chat_writer:w@{base}")
        assert created.returncode == 0, created.stderr
        env = {URL_ENV: f"postgresql://chat_exporter:e@{base}"}
        with exporter([], tmp_path, env=env) as running:
            assert running.sample("chat_up") == 1

        for reader in ("chat_exporter", "grafana_reader"):
            assert psql(reader, "SELECT count(*) FROM conversations").stdout.strip() == "0"
            write = psql(reader, "BEGIN READ WRITE; INSERT INTO sites (name) VALUES ('x')")
            assert "permission denied for table sites" in write.stderr
            create = psql(reader, "BEGIN READ WRITE; CREATE TABLE mine (id int)")
            assert "permission denied for schema public" in create.stderr
            default = psql(reader, "DELETE FROM sites")
            assert "read-only transaction" in default.stderr


def _readme_grants() -> list[str]:
    """What README.md's "Supervising Chatwoot" grants the exporter's role, as ``_grants``
    lists privileges: "table SELECT", or "table.column SELECT" for a column's own."""
    section = README_TEXT.split("\n## Supervising Chatwoot\n")[1].split("\n## ")[0]
    grants = []
    for columns, tables in re.findall(
        r"GRANT SELECT (?:\(([\w, ]+)\) )?ON ([\w\s,]+?) TO", section
    ):
        for table in re.split(r"[\s,]+", tables.strip()):
            if columns:
                grants += [f"{table}.{column} SELECT" for column in re.split(r",\s*", columns)]
            else:
                grants.append(f"{table} SELECT")
    return sorted(grants)


def _grants(role: str) -> str:
    """SQL listing the privileges granted to ``role`` on tables, and on columns by themselves
    (a table's grant covers its columns without listing them)."""
    return f"""
SELECT c.relname || ' ' || acl.privilege_type
FROM pg_class c, aclexplode(c.relacl) acl
WHERE acl.grantee = CAST('{role}' AS regrole)
UNION ALL
SELECT c.relname || '.' || a.attname || ' ' || acl.privilege_type
FROM pg_attribute a JOIN pg_class c ON c.oid = a.attrelid, aclexplode(a.attacl) acl
WHERE acl.grantee = CAST('{role}' AS regrole)
ORDER BY 1
"""


@pytest.mark.slow
def test_the_chatwoot_init_script_gives_the_readers_select_on_what_they_read(
    tmp_path: Path,
) -> None:
    """As the postgres image runs it: Chatwoot's tables owned by the demo's role, the
    exporter's role granted what the README tells operators (exactly what the Chatwoot source
    reads), and Grafana's what the Chatwoot drill-down's SQL reads; of users, the names only."""
    with throwaway_postgres() as server:
        environment = _image_environment(
            server,
            "chatwoot",
            CHATWOOT_DB_PASSWORD="c",
            CHAT_EXPORTER_DB_PASSWORD="e",
            CHAT_GRAFANA_DB_PASSWORD="g",
            CHATWOOT_SCHEMA_FILE=str(ROOT / "exporter" / "chatwoot_schema.sql"),
        )
        psql = partial(_psql, environment)

        created = psql("postgres", "SELECT 1")  # the database does not exist yet
        assert "does not exist" in created.stderr
        subprocess.run(
            ["psql", "-U", "postgres", "-d", "postgres", "-c", "CREATE DATABASE chatwoot"],
            env=environment,
            check=True,
            capture_output=True,
        )
        script = subprocess.run(
            ["bash", str(CHATWOOT_INIT_SCRIPT)],
            env=environment,
            capture_output=True,
            text=True,
            check=False,
        )
        assert script.returncode == 0, script.stderr

        owners = psql(
            "postgres", "SELECT DISTINCT tableowner FROM pg_tables WHERE schemaname = 'public'"
        )
        assert owners.stdout.split() == ["chatwoot"]
        # The README's grants, which are what the Chatwoot source reads; of users, its columns.
        readme = _readme_grants()
        assert psql("postgres", _grants("chat_exporter")).stdout.splitlines() == readme
        tables = (set(REQUIRED) - {"users"}) | {"inbox_capacity_limits"}
        columns = [f"users.{column} SELECT" for column in REQUIRED["users"]]
        assert readme == sorted([f"{table} SELECT" for table in tables] + columns)
        # What the Chatwoot drill-down's SQL reads (dashboards/live_conversations.py).
        drill_down = ["conversations", "inbox_members", "inboxes"]
        assert psql("postgres", _grants("grafana_reader")).stdout.splitlines() == sorted(
            [f"{table} SELECT" for table in drill_down] + columns
        )

        insert = "INSERT INTO accounts (name, created_at, updated_at) VALUES ('a', now(), now())"
        assert psql("chatwoot", insert).returncode == 0
        for reader in ("chat_exporter", "grafana_reader"):
            write = psql(reader, f"BEGIN READ WRITE; {insert}")
            assert "permission denied for table accounts" in write.stderr
            assert "read-only transaction" in psql(reader, "DELETE FROM users").stderr
            names = psql(reader, "SELECT id, name, display_name FROM users")
            assert names.returncode == 0, names.stderr
            # A real Chatwoot's users hold encrypted_password and tokens; this DDL has email.
            email = psql(reader, "SELECT email FROM users")
            assert "permission denied for table users" in email.stderr
        refused = psql("grafana_reader", "SELECT count(*) FROM reporting_events")
        assert "permission denied for table reporting_events" in refused.stderr

        # grafana_reader runs the drill-down's three queries, with its variables as Grafana
        # fills them in.
        cw = Chatwoot()
        account = cw.account()
        support = cw.inbox(account, "Support")
        ann = cw.agent(account, "Ann", [support])
        cw.conversation(support, ann, "2026-03-02 12:00:00")
        asyncio.run(cw.write(f"postgresql://chatwoot@127.0.0.1:{server.port}/chatwoot"))
        flavour = live_conversations.CHATWOOT
        conversations = grafana_sql(
            flavour.conversations_sql, site=["Support"], agent=[str(ann), "bot"]
        )
        answers = [
            psql("grafana_reader", sql)
            for sql in (flavour.sites_sql, flavour.agents_sql, conversations)
        ]
        assert [answer.stderr for answer in answers] == ["", "", ""]
        sites, agents, found = (answer.stdout.splitlines() for answer in answers)
        assert sites == ["Support"]
        assert agents == [f"Ann|{ann}", "Bot (pending)|bot"]
        [row] = found
        assert row.split("|")[:3] == ["1", "Support", "Ann"]

        env = {URL_ENV: f"postgresql://chat_exporter:e@127.0.0.1:{server.port}/chatwoot"}
        with exporter(["--database.schema", "chatwoot"], tmp_path, env=env) as running:
            assert running.sample("chat_up") == 1


@pytest.mark.slow
async def test_the_chatwoot_redis_users_work_as_declared(tmp_path: Path) -> None:
    """redis-server run with the compose file's flags: the demo's user writes presence, the
    exporter's reads it through the Chatwoot source's reader and can do nothing else."""
    program = shutil.which("redis-server")
    if program is None:
        pytest.skip("redis-server is not installed (Debian package redis-server)")
    port = free_port()
    declared = SERVICES["chatwoot-redis"]["command"]
    command = [VARIABLE.sub(lambda m: m["default"], str(arg)) for arg in declared]
    command = [program, *command[1:], "--port", str(port), "--bind", "127.0.0.1"]
    command += ["--dir", str(tmp_path)]
    defaults = dict(re.findall(r"^#\s+([A-Z_]+)\s+default (\S+)", COMPOSE_TEXT, re.M))
    with running(command, listening(port), tmp_path / "redis.log"):
        base = f"127.0.0.1:{port}/0"
        writer = Redis.from_url(
            f"redis://chat_writer:{defaults['CHAT_WRITER_REDIS_PASSWORD']}@{base}",
            decode_responses=True,
        )
        reader_url = f"redis://chat_exporter:{defaults['CHAT_EXPORTER_REDIS_PASSWORD']}@{base}"
        reader = Redis.from_url(reader_url, decode_responses=True)
        anonymous = Redis.from_url(f"redis://{base}")
        now = datetime(2026, 11, 24, 14, 0, tzinfo=UTC)
        try:
            await writer.zadd("alfred:ONLINE_PRESENCE::1::USERS", {"7": now.timestamp()})
            await writer.hset("alfred:ONLINE_STATUS::1", "7", "busy")
            await writer.set("alfred:OTHER", "x")
            settings = ChatwootSettings(redis_url=reader_url)
            assert await read_presence(settings, [1], now) == {(1, 7): "busy"}
            with pytest.raises(NoPermissionError):
                await reader.zadd("alfred:ONLINE_PRESENCE::1::USERS", {"8": now.timestamp()})
            with pytest.raises(NoPermissionError):
                await reader.hgetall("alfred:OTHER")
            with pytest.raises(NoPermissionError):
                await reader.keys("*")
            with pytest.raises(AuthenticationError):
                await anonymous.ping()
        finally:
            for client in (writer, reader, anonymous):
                await client.aclose()
