"""Load a YAML file into a pydantic model, reporting problems as ``file:line: field: what``.

PyYAML parses the file twice: once into nodes (which know their line) and once
into plain data for pydantic. Each validation error's location is looked up in
the node tree so an admin is sent to the exact line.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError

M = TypeVar("M", bound=BaseModel)
Location = tuple[Any, ...]


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem. Stop the run."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def dotted(location: Iterable[Any]) -> str:
    """``('fit', 'rules', 3, 'matches')`` -> ``fit.rules[3].matches``."""
    out = ""
    for part in location:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def _line_index(
    node: yaml.Node, prefix: Location, index: dict[Location, int], duplicates: list[tuple[Location, int, int]]
) -> None:
    index[prefix] = node.start_mark.line + 1
    if isinstance(node, yaml.MappingNode):
        first_seen: dict[Any, int] = {}
        for key_node, value_node in node.value:
            key = key_node.value
            line = key_node.start_mark.line + 1
            if key in first_seen:
                duplicates.append(((*prefix, key), line, first_seen[key]))
            first_seen.setdefault(key, line)
            _line_index(value_node, (*prefix, key), index, duplicates)
            # the key's own line, so "unknown key" points at the key
            index[(*prefix, key)] = line
    elif isinstance(node, yaml.SequenceNode):
        for i, item in enumerate(node.value):
            _line_index(item, (*prefix, i), index, duplicates)


def _line_for(location: Location, index: dict[Location, int]) -> int | None:
    for end in range(len(location), -1, -1):
        line = index.get(tuple(location[:end]))
        if line is not None:
            return line
    return None


def _message(error: dict[str, Any]) -> str:
    kind, msg = error["type"], error["msg"]
    if kind == "extra_forbidden":
        return "unknown key"
    if kind == "missing":
        return "required but missing"
    msg = msg.removeprefix("Value error, ")
    value = error.get("input")
    if isinstance(value, bool) and kind in ("string_type", "literal_error"):
        return f"{msg} (got {value}: YAML reads yes/no/on/off as true/false, so quote the value)"
    if isinstance(value, (str, int, float)) and kind not in ("value_error", "assertion_error"):
        return f"{msg} (got {value!r})"
    return msg


def _clean_location(location: Location) -> Location:
    # pydantic adds union branch names and validator tags (e.g. 'str', 'list[str]',
    # 'function-after[...]') to locations; an admin only wants the key path.
    return tuple(p for p in location if isinstance(p, int) or (not any(c in p for c in "[]-") and p not in _TYPE_TAGS))


_TYPE_TAGS = frozenset({"str", "float", "int", "bool", "list", "dict", "none", "literal"})


def read_text(path: Path) -> str:
    """The file's text, or a ConfigError naming the file and why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(str(path), None, "", "not UTF-8 text")]) from None


def load_model(
    path: Path,
    model: type[M],
    extra_checks: Callable[[M], list[tuple[Location, str]]] | None = None,
    text: str | None = None,
) -> M:
    """Read ``path`` (or ``text`` named as ``path``) into ``model`` or raise ConfigError."""
    name = str(path)
    if text is None:
        text = read_text(path)
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError([ConfigProblem(name, line, "", f"not valid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(name, None, "", f"not valid YAML: {exc}")]) from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(name, 1, "", "the top level must be a mapping of sections")])
    index: dict[Location, int] = {}
    duplicates: list[tuple[Location, int, int]] = []
    if root is not None:
        _line_index(root, (), index, duplicates)
    if duplicates:
        # YAML keeps the last of two equal keys: the first value would vanish without a word
        raise ConfigError(
            [
                ConfigProblem(name, line, dotted(loc), f"given twice (first on line {first})")
                for loc, line, first in duplicates
            ]
        )
    try:
        parsed = model.model_validate(data)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            location = _clean_location(tuple(error["loc"]))
            problems.append(ConfigProblem(name, _line_for(location, index), dotted(location), _message(error)))
        raise ConfigError(_dedupe(problems)) from None
    if extra_checks is not None:
        found = extra_checks(parsed)
        if found:
            raise ConfigError([ConfigProblem(name, _line_for(loc, index), dotted(loc), msg) for loc, msg in found])
    return parsed


def _dedupe(problems: list[ConfigProblem]) -> list[ConfigProblem]:
    # a value failing every branch of a union yields one error per branch: keep one line per
    # field, and drop a field's line when a more precise one (an item inside it) explains it
    seen: dict[tuple[int | None, str], ConfigProblem] = {}
    for problem in problems:
        seen.setdefault((problem.line, problem.field), problem)
    fields = {p.field for p in seen.values()}
    return [
        p
        for p in seen.values()
        if not any(other.startswith((p.field + "[", p.field + ".")) for other in fields if p.field)
    ]
