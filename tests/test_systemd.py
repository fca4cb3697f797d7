"""The systemd unit of deploy/systemd: valid for systemd, confined, and its command line runs.

No systemd runs as PID 1 on the test machines, so the unit is checked by systemd's own
offline tools (``systemd-analyze verify`` and ``security --offline``), and its ExecStart is
run for real as ``check-config`` with the unit's flags and a credential file laid out as
systemd lays it out.
"""

import re
import shlex
import subprocess
import sys
from pathlib import Path

from tests.servers import installed, run_cli, succeeds

UNIT = Path(__file__).parent.parent / "deploy" / "systemd" / "chat-supervision-exporter.service"
INSTALLED_PROGRAM = "/opt/chat-supervision-exporter/bin/chat-supervision-exporter"
CONFIG_DIRECTORY = "/etc/chat-supervision-exporter"
# systemd-analyze's scale: 0 is fully confined, 10 unconfined; "OK" ends below 2.0.
MOST_EXPOSED = 2.0


def service_settings() -> dict[str, list[str]]:
    """The [Service] section's settings, continuation lines joined."""
    text = UNIT.read_text(encoding="utf-8").replace("\\\n", " ")
    section = text.split("[Service]", 1)[1].split("\n[", 1)[0]
    settings: dict[str, list[str]] = {}
    for line in section.splitlines():
        if line.strip() and not line.startswith("#"):
            key, value = line.split("=", 1)
            settings.setdefault(key, []).append(value)
    return settings


def unit_here(tmp_path: Path) -> Path:
    """The unit with its ExecStart pointing at this environment's installed program:
    ``verify`` checks that the program exists."""
    program = Path(sys.executable).parent / "chat-supervision-exporter"
    assert program.exists(), "the package is not installed in this environment"
    unit = tmp_path / UNIT.name
    unit.write_text(UNIT.read_text(encoding="utf-8").replace(INSTALLED_PROGRAM, str(program)))
    return unit


def test_systemd_verifies_the_unit_without_a_warning(tmp_path: Path) -> None:
    systemd_analyze = installed("systemd-analyze")
    result = subprocess.run(
        [systemd_analyze, "verify", str(unit_here(tmp_path))],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert (result.returncode, result.stdout + result.stderr) == (0, "")


def test_the_service_is_confined(tmp_path: Path) -> None:
    systemd_analyze = installed("systemd-analyze")
    report = succeeds(
        systemd_analyze, "security", "--offline=true", "--no-pager", str(unit_here(tmp_path))
    )
    level = re.search(r"Overall exposure level for \S+: ([\d.]+)", report)
    assert level is not None, report
    assert float(level[1]) < MOST_EXPOSED, report


def test_the_database_password_comes_as_a_credential() -> None:
    settings = service_settings()
    assert settings["LoadCredential"] == [f"database-url:{CONFIG_DIRECTORY}/database-url"]
    assert "${CREDENTIALS_DIRECTORY}/database-url" in settings["ExecStart"][0]
    assert settings["DynamicUser"] == ["yes"]
    assert "--database.url " not in settings["ExecStart"][0]
    assert "Environment" not in settings
    assert "EnvironmentFile" not in settings


def test_the_command_line_of_the_unit_runs(tmp_path: Path) -> None:
    """ExecStart's flags, with the files where systemd puts them, pass check-config."""
    database = tmp_path / "chat.db"
    assert run_cli("init-db", "--database.url", f"sqlite:///{database}").returncode == 0
    credentials = tmp_path / "credentials"
    credentials.mkdir()
    (credentials / "database-url").write_text(f"sqlite:///{database}\n")
    configuration = tmp_path / "etc"
    configuration.mkdir()
    (configuration / "config.yml").write_text("service_level:\n  target: 30s\n")
    command = (
        service_settings()["ExecStart"][0]
        .replace("${CREDENTIALS_DIRECTORY}", str(credentials))
        .replace(CONFIG_DIRECTORY, str(configuration))
    )
    program, *flags = shlex.split(command)
    assert program == INSTALLED_PROGRAM
    result = run_cli("check-config", *flags)
    assert result.returncode == 0, result.stderr
