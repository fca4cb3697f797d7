"""Rules as data: a recording rule, an alert, a group, each with the comment that explains it.

The comments are part of the data so that the generated files keep explaining themselves
to whoever reads them in Prometheus' rule folder or in a PrometheusRule.
"""

from dataclasses import dataclass

from mixin.yamltext import Commented


@dataclass(frozen=True, slots=True)
class Recording:
    record: str
    expr: str
    comment: str = ""

    def rule(self) -> dict[str, object]:
        return {"record": self.record, "expr": self.expr}


@dataclass(frozen=True, slots=True)
class Alert:
    """An alerting rule: one severity, and the three annotations every alert has."""

    alert: str
    expr: str
    for_: str
    severity: str
    summary: str
    description: str
    runbook_url: str
    keep_firing_for: str = ""
    comment: str = ""

    def rule(self) -> dict[str, object]:
        rule: dict[str, object] = {"alert": self.alert, "expr": self.expr, "for": self.for_}
        if self.keep_firing_for:
            rule["keep_firing_for"] = self.keep_firing_for
        rule["labels"] = {"severity": self.severity}
        rule["annotations"] = {
            "summary": self.summary,
            "description": self.description,
            "runbook_url": self.runbook_url,
        }
        return rule


@dataclass(frozen=True, slots=True)
class Group:
    """A rule group, and what its file's comment says of it."""

    name: str
    comment: str
    rules: tuple[Recording | Alert, ...]

    def group(self) -> dict[str, object]:
        """The group as Prometheus reads it, each rule's comment above it."""
        rules: list[object] = [
            Commented(rule.comment, rule.rule()) if rule.comment else rule.rule()
            for rule in self.rules
        ]
        return {"name": self.name, "rules": rules}
