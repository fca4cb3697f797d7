"""Readable YAML for the generated files, with comments, proven to read back as the data.

PyYAML writes no comments, and picks quoted styles for PromQL and Go templates. This writes
block style by hand: multi-line text as literal blocks (``|-``), long prose under the keys
the caller names as folded blocks (``>-``), plain scalars where YAML reads them back
unchanged, double quotes otherwise. Whatever the choices, the text is loaded again and
compared with the data before it is returned: a style that would change a value is an error
here, not a rule that Prometheus reads differently.
"""

import json
import re
import textwrap
from collections.abc import Collection, Sequence
from dataclasses import dataclass

import yaml

WIDTH = 100
INDENT = "  "
# libyaml's loader where PyYAML was built with it: the dashboards' ConfigMaps are large.
_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

# A Go template action, and a stand-in for the spaces a fold may not break at.
_ACTION = re.compile(r"\{\{.*?\}\}")
_UNBROKEN = "\ue000"
_SHORT_ACTION = 60


def _keep_together(action: re.Match[str]) -> str:
    """A short template action unbroken; a long one broken anywhere but at its braces."""
    text = action.group()
    if len(text) <= _SHORT_ACTION:
        return text.replace(" ", _UNBROKEN)
    return text.replace("{{ ", "{{" + _UNBROKEN).replace(" }}", _UNBROKEN + "}}")


@dataclass(frozen=True, slots=True)
class Commented:
    """A list item with the comment written above it."""

    comment: str
    value: object


def _comment(text: str, indent: str) -> list[str]:
    """``text`` as comment lines at ``indent``: paragraphs wrapped, blank lines kept."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        wrapped = textwrap.wrap(paragraph, WIDTH - len(indent) - 2, break_on_hyphens=False)
        lines += [f"{indent}# {line}" for line in wrapped] or [f"{indent}#"]
    return lines


def _reads_back(text: str, value: object) -> bool:
    try:
        loaded = yaml.load(text, Loader=_LOADER)
    except yaml.YAMLError:
        return False
    return isinstance(loaded, dict) and loaded == {"k": value}


def _plain(value: object) -> str | None:
    """``value`` as a plain or double-quoted one-line scalar; None if it has lines."""
    if isinstance(value, str) and "\n" in value:
        return None
    if isinstance(value, str):
        return value if _reads_back(f"k: {value}", value) else json.dumps(value, ensure_ascii=False)
    if value is None or isinstance(value, bool | int | float):
        return json.dumps(value)
    raise TypeError(f"cannot write {type(value).__name__} as a YAML scalar")


def _scalar(key: str, value: object, indent: str, folded: Collection[str]) -> list[str]:
    """The lines of ``key: value`` for a scalar ``value``."""
    inner = indent + INDENT
    if isinstance(value, str) and "\n" in value:
        chomping = "" if value.endswith("\n") and not value.endswith("\n\n") else "-"
        body = value.removesuffix("\n") if chomping == "" else value
        lines = [f"{inner}{line}" if line else "" for line in body.split("\n")]
        return [f"{indent}{key}: |{chomping}", *lines]
    line = f"{indent}{key}: {_plain(value)}"
    if isinstance(value, str) and key in folded and len(line) > WIDTH:
        wrapped = textwrap.wrap(
            _ACTION.sub(_keep_together, value),
            WIDTH - len(inner),
            break_long_words=False,
            break_on_hyphens=False,
        )
        lines = [f"{inner}{part.replace(_UNBROKEN, ' ')}" for part in wrapped]
        return [f"{indent}{key}: >-", *lines]
    return [line]


def _lines(value: object, indent: str, folded: Collection[str]) -> list[str]:
    """A mapping's or a sequence's lines at ``indent``."""
    if isinstance(value, dict):
        lines: list[str] = []
        for key, item in value.items():
            name = _plain(key)
            if isinstance(item, dict | list) and item:
                lines += [f"{indent}{name}:", *_lines(item, indent + INDENT, folded)]
            elif isinstance(item, dict | list):
                lines.append(f"{indent}{name}: {'{}' if isinstance(item, dict) else '[]'}")
            else:
                lines += _scalar(str(name), item, indent, folded)
        return lines
    if isinstance(value, list):
        lines = []
        for entry in value:
            item = entry.value if isinstance(entry, Commented) else entry
            if isinstance(entry, Commented):
                lines += _comment(entry.comment, indent)
            if isinstance(item, dict | list) and item:
                nested = _lines(item, indent + INDENT, folded)
                lines += [f"{indent}- {nested[0].lstrip()}", *nested[1:]]
            else:
                (line,) = _lines({"k": item}, "", folded)
                lines.append(f"{indent}- {line.removeprefix('k: ')}")
        return lines
    raise TypeError(f"a document is a mapping or a sequence, not {type(value).__name__}")


def _data(value: object) -> object:
    """``value`` without its comments: the data a YAML parser reads from the text."""
    if isinstance(value, Commented):
        return _data(value.value)
    if isinstance(value, dict):
        return {key: _data(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_data(item) for item in value]
    return value


def documents(values: Sequence[object], header: str, folded: Collection[str] = ()) -> str:
    """One or several YAML documents (separated by ``---``) under a comment ``header``."""
    text = "\n".join(_comment(header, "")) + "\n"
    text += "---\n".join("\n".join(_lines(value, "", folded)) + "\n" for value in values)
    loaded = list(yaml.load_all(text, Loader=_LOADER))
    if loaded != [_data(value) for value in values]:
        raise ValueError("the YAML written does not read back as the data")
    return text
