"""What Grafana does to a dashboard's PromQL before sending it to Prometheus."""

import re

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
