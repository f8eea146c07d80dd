"""Load a YAML file into a pydantic model, reporting problems as ``file:line: field: what``.

PyYAML composes the file into nodes (which know their line) and builds plain
data from them for pydantic. Each validation error's location is looked up in
the node tree so an admin is sent to the exact line. Whatever the file holds,
the outcome is the model or a ConfigError: never a traceback, never a hang.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import yaml
from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails
from yaml.constructor import ConstructorError

M = TypeVar("M", bound=BaseModel)
Location = tuple[Any, ...]

#: a rules file nests six levels or so; far deeper is a mistake (or an attack on the parser's stack)
MAX_DEPTH = 50
#: values once YAML aliases are expanded; the default rules hold about 1,500 (an alias bomb holds billions)
MAX_VALUES = 100_000
#: digits in one number; no setting needs more, and Python refuses to read beyond 4,300
MAX_DIGITS = 100
#: how much of a bad value a problem line quotes
SHOWN_CHARS = 60


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong with a config file."""

    file: str
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        text = f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"
        return " ".join(text.splitlines())  # one problem, one line, whatever a library's message held


class ConfigError(Exception):
    """The config cannot be used; ``problems`` holds one line per problem. Stop the run."""

    def __init__(self, problems: list[ConfigProblem]):
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


def shown(value: Any) -> str:
    """``repr(value)``, cut short so that a problem stays one readable line."""
    text = repr(value)
    return text if len(text) <= SHOWN_CHARS else text[: SHOWN_CHARS - 1] + "…"


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
            if not isinstance(key_node, yaml.ScalarNode):
                continue  # a list or mapping as a key: building the data reports it
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


def _message(error: ErrorDetails) -> str:
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
        return f"{msg} (got {shown(value)})"
    return msg


def _clean_location(location: Location) -> Location:
    # pydantic adds union branch names and validator tags (e.g. 'str', 'list[str]',
    # 'function-after[...]') to locations; an admin only wants the key path.
    return tuple(p for p in location if isinstance(p, int) or (not any(c in p for c in "[]-") and p not in _TYPE_TAGS))


_TYPE_TAGS = frozenset({"str", "float", "int", "bool", "list", "dict", "none", "literal"})


class _Loader(yaml.SafeLoader):
    """The safe loader, except that no scalar lets a Python error escape.

    PyYAML builds ``2026-13-45`` as a date and a 5,000-digit number as an int by
    calling Python, whose ValueError would carry no line. A date that is no date
    stays text (the model then says what it expected there); an overlong number
    is a YAML error at its line.
    """

    def construct_yaml_int(self, node: yaml.ScalarNode) -> Any:
        digits = sum(c.isdigit() for c in node.value)
        if digits > MAX_DIGITS:
            raise ConstructorError(None, None, f"a number with {digits} digits is too long", node.start_mark)
        return super().construct_yaml_int(node)

    def construct_yaml_timestamp(self, node: yaml.ScalarNode) -> Any:
        try:
            return super().construct_yaml_timestamp(node)
        except (ValueError, OverflowError):
            return node.value


_Loader.add_constructor("tag:yaml.org,2002:int", _Loader.construct_yaml_int)
_Loader.add_constructor("tag:yaml.org,2002:timestamp", _Loader.construct_yaml_timestamp)


def _shape_problem(text: str) -> tuple[int, str] | None:
    """(line, problem) when the YAML nests too deeply or its aliases expand to too much, else None.

    Read from the parser's events, which PyYAML produces without recursion and
    without expanding aliases, so neither a deep file nor an alias bomb costs
    more than one pass over the text.
    """
    open_: list[list[Any]] = []  # per open collection: [values inside so far, its anchor]
    sizes: dict[str, int] = {}  # anchor -> values it stands for
    for event in yaml.parse(text, Loader=yaml.SafeLoader):
        line = event.start_mark.line + 1 if event.start_mark else 0
        if isinstance(event, yaml.CollectionStartEvent):
            if len(open_) >= MAX_DEPTH:
                return line, f"nested more than {MAX_DEPTH} levels deep"
            open_.append([1, event.anchor])
            continue
        if isinstance(event, yaml.CollectionEndEvent):
            size, anchor = open_.pop()
        elif isinstance(event, yaml.ScalarEvent):
            size, anchor = 1, event.anchor
        elif isinstance(event, yaml.AliasEvent):
            size, anchor = sizes.get(event.anchor or "", 1), None
        else:
            continue  # stream and document boundaries
        if anchor is not None:
            sizes[anchor] = size
        if open_:
            open_[-1][0] += size
            if open_[-1][0] > MAX_VALUES:
                return line, f"expands to more than {MAX_VALUES:,} values through YAML aliases"
    return None


@dataclass
class _Document:
    """A parsed YAML file: its plain data and the line of every key path."""

    data: Any
    lines: dict[Location, int]
    duplicates: list[tuple[Location, int, int]]


def _parse(name: str, text: str) -> _Document:
    """Parse ``text``, or raise ConfigError naming the line (and the key, when known) of the problem."""
    lines: dict[Location, int] = {}
    duplicates: list[tuple[Location, int, int]] = []
    try:
        shape = _shape_problem(text)
        if shape is not None:
            raise ConfigError([ConfigProblem(name, shape[0], "", f"not usable YAML: {shape[1]}")])
        loader = _Loader(text)
        try:
            root = loader.get_single_node()
            if root is None:
                return _Document(None, lines, duplicates)
            _line_index(root, (), lines, duplicates)
            return _Document(loader.construct_document(root), lines, duplicates)
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as exc:
        line = exc.problem_mark.line + 1 if exc.problem_mark else None
        # the deepest key on that line, when the file got as far as having keys
        on_line: list[Location] = sorted((loc for loc, at in lines.items() if at == line), key=len)
        field = dotted(on_line[-1]) if on_line else ""
        problem = " ".join(p for p in (exc.context, exc.problem) if p)
        raise ConfigError([ConfigProblem(name, line, field, f"not valid YAML: {problem}")]) from None
    except yaml.reader.ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1
        problem = f"{exc.reason}: character {exc.character!r}"
        raise ConfigError([ConfigProblem(name, line, "", f"not valid YAML: {problem}")]) from None
    except yaml.YAMLError as exc:
        raise ConfigError([ConfigProblem(name, None, "", f"not valid YAML: {exc}")]) from None


def read_text(path: Path) -> str:
    """The file's text, or a ConfigError naming the file and why it cannot be read."""
    try:
        return path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError([ConfigProblem(str(path), None, "", f"cannot read file: {exc.strerror or exc}")]) from None
    except UnicodeDecodeError:
        raise ConfigError([ConfigProblem(str(path), None, "", "not UTF-8 text")]) from None


def non_finite(value: Any, location: Location = ()) -> Iterator[tuple[Location, str]]:
    """Every NaN or infinity in a validated model: (location, problem).

    YAML's ``.nan`` and ``.inf`` (and the strings "nan", "inf") are floats to
    pydantic; a threshold or points value like that would poison every score.
    """
    if isinstance(value, float) and not math.isfinite(value):
        yield location, f"must be a finite number (got {value})"
    elif isinstance(value, BaseModel):
        for name in type(value).model_fields:
            yield from non_finite(getattr(value, name), (*location, name))
    elif isinstance(value, dict):
        for key, item in value.items():
            yield from non_finite(item, (*location, key))
    elif isinstance(value, (list, tuple)):
        for i, item in enumerate(value):
            yield from non_finite(item, (*location, i))


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
    document = _parse(name, text)
    data, index = document.data, document.lines
    if data is None:
        raise ConfigError([ConfigProblem(name, None, "", "the file is empty: it needs at least one section")])
    if not isinstance(data, dict):
        raise ConfigError([ConfigProblem(name, 1, "", "the top level must be a mapping of sections")])
    if document.duplicates:
        # YAML keeps the last of two equal keys: the first value would vanish without a word
        raise ConfigError(
            [
                ConfigProblem(name, line, dotted(loc), f"given twice (first on line {first})")
                for loc, line, first in document.duplicates
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
    found = list(non_finite(parsed))
    if not found and extra_checks is not None:
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
