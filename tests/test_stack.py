"""The composed stack holds together, checked without a Docker engine.

docker-compose.yml, the Dockerfile, the Prometheus and Alertmanager configurations and
Grafana's provisioning name each other by service name, port and path; these tests read them
all and check that every such reference lands. The PostgreSQL init script runs for real on a
private server, and promtool checks the Prometheus configuration with its rule files.
"""

import re
import subprocess
import tomllib
import urllib.parse
from pathlib import Path, PurePosixPath
from typing import Any

import pytest
import yaml

from exporter.cli import URL_ENV
from exporter.web import DEFAULT_PORT
from tests.servers import exporter, installed, run_cli, succeeds, throwaway_postgres

ROOT = Path(__file__).resolve().parent.parent
COMPOSE_TEXT = (ROOT / "docker-compose.yml").read_text()
COMPOSE: dict[str, Any] = yaml.safe_load(COMPOSE_TEXT)
SERVICES: dict[str, dict[str, Any]] = COMPOSE["services"]
PROMETHEUS: dict[str, Any] = yaml.safe_load((ROOT / "alerts" / "prometheus.yml").read_text())
ALERTMANAGER: dict[str, Any] = yaml.safe_load((ROOT / "alerts" / "alertmanager.yml").read_text())
INIT_SCRIPT = ROOT / "deploy" / "postgres" / "10-chat-roles.sh"

# Where each service listens inside the stack's network.
SERVICE_PORTS = {
    "postgres": 5432,
    "demo": DEFAULT_PORT,
    "exporter": DEFAULT_PORT,
    "prometheus": 9090,
    "alertmanager": 9093,
    "alert-webhook": 9095,
    "grafana": 3000,
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
    for name in ("demo", "exporter"):
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


def test_grafana_datasources_reach_the_services() -> None:
    datasources = {
        datasource["uid"]: datasource
        for provisioned in _provisioning("datasources")
        for datasource in provisioned["datasources"]
    }
    services = {uid: _lands(datasource["url"]) for uid, datasource in datasources.items()}
    assert services == {
        "chat-prometheus": "prometheus",
        "chat-alertmanager": "alertmanager",
        "chat-database": "postgres",
    }
    scrape_interval = PROMETHEUS["global"]["scrape_interval"]
    assert datasources["chat-prometheus"]["jsonData"]["timeInterval"] == scrape_interval
    database = datasources["chat-database"]
    assert database["user"] == "grafana_reader"
    assert database["jsonData"]["database"] == SERVICES["postgres"]["environment"]["POSTGRES_DB"]
    password = database["secureJsonData"]["password"]
    [variable] = re.fullmatch(r"\$\{?([A-Z_]+)\}?", password).groups()  # type: ignore[union-attr]
    assert variable in SERVICES["grafana"]["environment"]
    assert variable in SERVICES["postgres"]["environment"]


def test_prometheus_datasource_describes_the_prometheus_of_the_stack() -> None:
    [prometheus] = [
        datasource
        for provisioned in _provisioning("datasources")
        for datasource in provisioned["datasources"]
        if datasource["type"] == "prometheus"
    ]
    image_version = SERVICES["prometheus"]["image"].rpartition(":v")[2]
    assert prometheus["jsonData"]["prometheusVersion"] == image_version


def test_grafana_loads_the_dashboards_from_where_they_are_mounted() -> None:
    mounted = _mounted_at("grafana", "./dashboards/json")
    [provider] = [
        p for provisioned in _provisioning("dashboards") for p in provisioned["providers"]
    ]
    assert provider["options"]["path"] == mounted
    assert _mounted_at("grafana", "./provisioning") == "/etc/grafana/provisioning"
    home = PurePosixPath(
        SERVICES["grafana"]["environment"]["GF_DASHBOARDS_DEFAULT_HOME_DASHBOARD_PATH"]
    )
    assert home.parent == PurePosixPath(mounted)
    assert (ROOT / "dashboards" / "json" / home.name).is_file()


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
def test_the_init_script_gives_the_readers_select_only(tmp_path: Path) -> None:
    """As the postgres image runs it; then the demo's role creates the tables."""
    passwords = {
        "CHAT_WRITER_DB_PASSWORD": "w",
        "CHAT_EXPORTER_DB_PASSWORD": "e",
        "CHAT_GRAFANA_DB_PASSWORD": "g",
    }
    with throwaway_postgres() as server:
        environment = {
            "PATH": f"{server.bindir}:/usr/bin:/bin",
            "PGHOST": "127.0.0.1",
            "PGPORT": str(server.port),
            "POSTGRES_USER": "postgres",
            "POSTGRES_DB": "chat",
            **passwords,
        }

        def psql(user: str, sql: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(
                ["psql", "-U", user, "-d", "chat", "-v", "ON_ERROR_STOP=1", "-tA", "-c", sql],
                capture_output=True,
                text=True,
                env=environment,
                check=False,
            )

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
