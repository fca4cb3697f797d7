"""PromQL as the tests read it, and the job selectors the rule and dashboard tests run on.

Every rule and dashboard test that runs PromQL runs twice: with the shipped settings (the
job ``chat``) and with another job, whose series the rendered files must select, and only
those: the other job's series are given too, and must change nothing.
"""

import re

from mixin.settings import DEFAULTS, Settings

# The settings each test runs on, by test id, and the job their series carry.
SUPPORT_CHAT = Settings(job_selector='job="support-chat"')
JOBS = {"chat": DEFAULTS, "support-chat": SUPPORT_CHAT}


def other_job(job: str) -> str:
    """A job of the same series that the rules and dashboards of ``job`` must ignore."""
    (other,) = set(JOBS) - {job}
    return other


TOKEN = re.compile(
    r"""(?P<string>"(?:\\.|[^"\\])*"|'(?:\\.|[^'\\])*'|`[^`]*`)
      | (?P<range>\[[^\]]*\])
      | (?P<number>\d+(?:\.\d+)?(?:ms|[smhdwy])*)
      | (?P<name>[A-Za-z_:][A-Za-z0-9_:]*)
      | (?P<symbol>=~|!~|!=|==|>=|<=|[-+*/%^<>=,(){}@])
      | (?P<space>\s+)""",
    re.VERBOSE,
)
AGGREGATIONS = {
    "sum", "min", "max", "avg", "group", "stddev", "stdvar", "count", "count_values", "bottomk",
    "topk", "quantile",
}  # fmt: skip
LABEL_LISTS = {"by", "without", "on", "ignoring", "group_left", "group_right"}
KEYWORDS = {"and", "or", "unless", "offset", "bool", "atan2"}


def _tokens(expr: str) -> list[tuple[str, str]]:
    tokens: list[tuple[str, str]] = []
    position = 0
    while position < len(expr):
        match = TOKEN.match(expr, position)
        assert match is not None, f"cannot read {expr[position:]!r}"
        assert match.lastgroup is not None
        if match.lastgroup != "space":
            tokens.append((match.lastgroup, match.group()))
        position = match.end()
    return tokens


def selectors(expr: str) -> list[tuple[str, set[tuple[str, str, str]]]]:
    """The vector selectors of a PromQL expression: metric name and (label, op, value) matchers.

    A small tokenizer rather than a regular expression over the text: strings are read as
    strings, so a "site" inside another matcher's value cannot pass for a site matcher, and
    names in by/without/on/ignoring/group_* lists, functions and aggregations are skipped.
    """
    tokens = [*_tokens(expr), ("end", "")]
    found: list[tuple[str, set[tuple[str, str, str]]]] = []
    index = 0
    while index < len(tokens) - 1:
        kind, word = tokens[index]
        following = tokens[index + 1][1]
        if kind == "name" and word in LABEL_LISTS:
            if following == "(":
                index = next(i for i in range(index, len(tokens)) if tokens[i][1] == ")")
        elif (
            kind == "name"
            and word not in KEYWORDS
            and following != "("
            and not (word in AGGREGATIONS and following in LABEL_LISTS)
        ):
            matchers: set[tuple[str, str, str]] = set()
            if following == "{":
                index += 2
                while tokens[index][1] != "}":
                    (_, label), (_, op), (kind_, value) = tokens[index : index + 3]
                    assert kind_ == "string", f"bad matcher in {expr}"
                    matchers.add((label, op, value[1:-1]))
                    index += 4 if tokens[index + 3][1] == "," else 3
            found.append((word, matchers))
        elif word == "{":
            raise AssertionError(f"a selector without a metric name in {expr}")
        index += 1
    return found
