"""What Grafana does to a dashboard's queries and to its provisioning files before using them."""

import re
from collections.abc import Mapping
from typing import Any

# Grafana's variables, replaced as dashboard-linter does before it parses an expression;
# "site" stands for the site variable's value (".+" is its "All").
SUBSTITUTES = {"site": ".+", "__range": "1d", "__rate_interval": "1m", "__interval": "15s"}
VARIABLE = re.compile(r"\$\{?(\w+)\}?")


def substitute(expr: str, site: str = ".+") -> str:
    """``expr`` with every variable replaced; an unknown variable fails the test."""
    values = {**SUBSTITUTES, "site": site}

    def value(match: re.Match[str]) -> str:
        assert match.group(1) in values, f"unknown variable {match.group(0)} in {expr}"
        return values[match.group(1)]

    return VARIABLE.sub(value, expr)


def sqlstring(values: list[str]) -> str:
    """Grafana's ``sqlstring`` format: each value single-quoted, ' doubled, " as \\", joined by commas."""
    return ",".join("'" + v.replace("'", "''").replace('"', '\\"') + "'" for v in values)


def grafana_sql(sql: str, **variables: list[str]) -> str:
    """``sql`` with ``${name:sqlstring}`` replaced as Grafana replaces it."""
    for name, values in variables.items():
        sql = sql.replace(f"${{{name}:sqlstring}}", sqlstring(values))
    return sql


ENVIRONMENT_VARIABLE = re.compile(r"\$(?:\{(\w+)\}|(\w+))")


def expand(value: Any, environment: Mapping[str, str]) -> Any:
    """``value`` with the $VARIABLES of its strings replaced from ``environment``, as Grafana
    reads a provisioning file (os.ExpandEnv). Grafana makes an unset one empty: here it fails."""
    if isinstance(value, dict):
        return {key: expand(item, environment) for key, item in value.items()}
    if isinstance(value, list):
        return [expand(item, environment) for item in value]
    if not isinstance(value, str):
        return value

    def variable(match: re.Match[str]) -> str:
        name = match[1] or match[2]
        assert name in environment, f"{value}: {name} is not set"
        return environment[name]

    return ENVIRONMENT_VARIABLE.sub(variable, value)
