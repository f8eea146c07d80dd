"""A SOQL subset: the tokenizer and parser (names are resolved later, against the schema).

Supported::

    SELECT COUNT() | field[, field...]        -- fields may be Relationship.Field
    FROM Object
    [WHERE condition]                         -- =, !=, <>, <, <=, >, >=, [NOT] IN (...), LIKE;
                                              -- AND / OR / NOT with parentheses; mixing AND and OR
                                              -- without parentheses is an error, as in SOQL
    [ORDER BY field [ASC|DESC] [NULLS FIRST|LAST][, ...]]
    [LIMIT n]

Literals: 'quoted strings' (with backslash escapes), numbers, true/false/null,
unquoted datetimes (``2026-11-20T12:00:00Z``, ``+00:00``, ``.000+0000``) and dates
(``2026-11-20``). Everything else (subqueries, aggregates, GROUP BY, OFFSET, date
literals such as TODAY, a datetime whose ``+`` arrived as a space...) is a
MALFORMED_QUERY: the sandbox never answers a query it does not fully understand.

:func:`parse_shape` reads a query whose quoted strings are taken out (its *shape*: the
same for every page of ``WHERE WhoId IN (200 ids)``) once, then binds the strings of
each call into that tree: most of a long query's text is its literals.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple

from connector.sandbox.salesforce.values import is_date, parse_datetime

_TOKEN = re.compile(
    r"""
    (?P<space>\s+)
  | (?P<string>'(?:[^'\\]|\\.)*')
  | (?P<datetime>\d{4}-\d{2}-\d{2}T[0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)
  | (?P<date>\d{4}-\d{2}-\d{2})
  | (?P<number>-?\d+(?:\.\d+)?)
  | (?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*)
  | (?P<op><=|>=|!=|<>|=|<|>)
  | (?P<punct>[(),])
  | (?P<param>\?)
""",
    re.VERBOSE,
)
#: a quoted string, as the tokenizer reads one (no other token holds a quote), captured so that
#: ``split`` keeps it between the text around it; the same pattern unrolled (runs of plain
#: characters between escapes), which reads an IN list of 200 ids five times faster
_STRING = re.compile(r"('[^'\\]*(?:\\.[^'\\]*)*')")
#: what stands for a string in a query's shape (never valid SOQL of its own)
_PARAM = "?"
_ESCAPES = {
    "n": "\n",
    "t": "\t",
    "r": "\r",
    "b": "\b",
    "f": "\f",
    "'": "'",
    '"': '"',
    "\\": "\\",
    "%": "\\%",
    "_": "\\_",
}  # \% and \_ stay escaped: they only mean something to LIKE
_COMPARISONS = {"=", "!=", "<>", "<", "<=", ">", ">="}


class SoqlError(Exception):
    """A query Salesforce would refuse: ``code`` (MALFORMED_QUERY, INVALID_FIELD...) at ``pos``."""

    def __init__(self, code: str, text: str, pos: int | None = None) -> None:
        super().__init__(text)
        self.code = code
        self.text = text
        self.pos = pos

    def message(self, soql: str) -> str:
        """Salesforce's message: the query, a caret under the problem, its row and column."""
        if not self.pos:
            return self.text
        row = soql.count("\n", 0, self.pos) + 1
        line_start = soql.rfind("\n", 0, self.pos) + 1
        line_end = soql.find("\n", self.pos)
        line = soql[line_start : line_end if line_end >= 0 else len(soql)]
        column = self.pos - line_start
        return f"\n{line}\n{' ' * column}^\nERROR at Row:{row}:Column:{column + 1}\n{self.text}"


class Token(NamedTuple):
    kind: str  # string datetime date number name op punct param eof
    text: str
    pos: int

    @property
    def word(self) -> str:
        """The upper-cased text of a name token (keywords are case-insensitive)."""
        return self.text.upper() if self.kind == "name" else ""


@dataclass(frozen=True, slots=True)
class Literal:
    kind: str  # string number datetime date boolean null; param (a shape's string, by index)
    value: Any
    pos: int


@dataclass(frozen=True, slots=True)
class FieldRef:
    path: tuple[str, ...]
    pos: int

    @property
    def text(self) -> str:
        return ".".join(self.path)


@dataclass(frozen=True, slots=True)
class Comparison:
    field: FieldRef
    op: str  # = != < <= > >= IN NOT IN LIKE
    value: Literal | tuple[Literal, ...]


@dataclass(frozen=True, slots=True)
class Junction:
    op: str  # AND | OR
    parts: tuple[Condition, ...]


@dataclass(frozen=True, slots=True)
class Negation:
    part: Condition


Condition = Comparison | Junction | Negation


@dataclass(frozen=True, slots=True)
class OrderItem:
    field: FieldRef
    descending: bool
    nulls_last: bool


@dataclass(slots=True)
class Query:
    """A parsed query; names are still as written."""

    sobject: str
    sobject_pos: int
    fields: list[FieldRef] = field(default_factory=list)
    count: bool = False
    where: Condition | None = None
    order: list[OrderItem] = field(default_factory=list)
    limit: int | None = None


def tokenize(soql: str, shape: bool = False) -> list[Token]:
    """Tokens of a query (of a shape: ``?`` for each string), ending with an ``eof`` token."""
    tokens: list[Token] = []
    pos = 0
    for match in _TOKEN.finditer(soql):
        kind = match.lastgroup or ""
        if match.start() != pos or (kind == "param" and not shape):  # something no token matches
            break
        if kind != "space":
            tokens.append(Token(kind, match.group(), pos))
        pos = match.end()
    if pos < len(soql):
        raise SoqlError("MALFORMED_QUERY", f"unexpected token: '{soql[pos]}'", pos)
    tokens.append(Token("eof", "<EOF>", len(soql)))
    return tokens


def parse(soql: str) -> Query:
    """Parse a query of the supported subset, or raise SoqlError(MALFORMED_QUERY)."""
    return _Parser(tokenize(soql)).query()


def parse_shape(soql: str) -> Query:
    """What :func:`parse` answers for a query it accepts, from its shape's tree (parsed once)
    with this query's strings bound in; SoqlError for anything else. Positions in the tree
    are the shape's: to report an error with the query's own, parse it with :func:`parse`."""
    if _PARAM in soql:
        return parse(soql)
    pieces = _STRING.split(soql)  # text, string, text, ...: one pass finds the strings and the shape
    if len(pieces) == 1:
        return _shape(soql)
    tree = _shape(_PARAM.join(pieces[::2]))
    values = [_unquote(text) for text in pieces[1::2]]
    return replace(tree, where=_bind(tree.where, values)) if tree.where is not None else tree


@lru_cache(maxsize=256)
def _shape(shape: str) -> Query:
    # shared by every call of the shape: nothing downstream changes a parsed tree
    return _Parser(tokenize(shape, shape=True)).query()


def _bind(condition: Condition, values: list[str]) -> Condition:
    """``condition`` with each ``param`` literal replaced by its string."""
    if isinstance(condition, Comparison):
        literal = condition.value
        if isinstance(literal, tuple):
            bound: Literal | tuple[Literal, ...] = tuple(
                Literal("string", values[item.value], item.pos) if item.kind == "param" else item for item in literal
            )
        else:
            bound = Literal("string", values[literal.value], literal.pos) if literal.kind == "param" else literal
        return Comparison(condition.field, condition.op, bound)
    if isinstance(condition, Junction):
        return Junction(condition.op, tuple(_bind(part, values) for part in condition.parts))
    return Negation(_bind(condition.part, values))


class _Parser:
    def __init__(self, tokens: list[Token]) -> None:
        self.tokens = tokens
        self.at = 0
        self.params = 0  # a shape's strings read so far

    # -- helpers -----------------------------------------------------------------------

    def peek(self, ahead: int = 0) -> Token:
        index = self.at + ahead
        return self.tokens[index] if index < len(self.tokens) else self.tokens[-1]

    def take(self) -> Token:
        token = self.peek()
        self.at += 1
        return token

    def unexpected(self, token: Token | None = None) -> SoqlError:
        token = token or self.peek()
        return SoqlError("MALFORMED_QUERY", f"unexpected token: '{token.text}'", token.pos)

    def keyword(self, *words: str) -> bool:
        """Consume the keyword(s) if next, in order."""
        if all(self.peek(i).word == w for i, w in enumerate(words)):
            self.at += len(words)
            return True
        return False

    def expect(self, *words: str) -> None:
        for word in words:
            if not self.keyword(word):
                raise self.unexpected()

    def punct(self, char: str) -> bool:
        if self.peek().kind == "punct" and self.peek().text == char:
            self.at += 1
            return True
        return False

    def expect_punct(self, char: str) -> None:
        if not self.punct(char):
            raise self.unexpected()

    # -- grammar -----------------------------------------------------------------------

    def query(self) -> Query:
        self.expect("SELECT")
        fields: list[FieldRef] = []
        count = False
        if self.peek().word == "COUNT" and self.peek(1).text == "(":
            self.at += 2
            self.expect_punct(")")
            count = True
        else:
            fields.append(self.field_ref())
            while self.punct(","):
                fields.append(self.field_ref())
        self.expect("FROM")
        name = self.take()
        if name.kind != "name" or "." in name.text:
            raise self.unexpected(name)
        query = Query(name.text, name.pos, fields, count)
        if self.keyword("WHERE"):
            query.where = self.condition()
        if self.keyword("ORDER", "BY"):
            query.order.append(self.order_item())
            while self.punct(","):
                query.order.append(self.order_item())
        if self.keyword("LIMIT"):
            token = self.take()
            if token.kind != "number" or not token.text.isdigit():
                raise self.unexpected(token)
            query.limit = int(token.text)
        if self.peek().kind != "eof":
            raise self.unexpected()
        return query

    def field_ref(self) -> FieldRef:
        token = self.take()
        if token.kind != "name" or token.word in ("FROM", "SELECT", "WHERE"):
            raise self.unexpected(token)
        return FieldRef(tuple(token.text.split(".")), token.pos)

    def order_item(self) -> OrderItem:
        ref = self.field_ref()
        descending = self.keyword("DESC")
        if not descending:
            self.keyword("ASC")
        nulls_last = descending
        if self.keyword("NULLS"):
            if self.keyword("LAST"):
                nulls_last = True
            else:
                self.expect("FIRST")
                nulls_last = False
        return OrderItem(ref, descending, nulls_last)

    def condition(self) -> Condition:
        first = self.unary()
        joiner = self.peek().word
        if joiner not in ("AND", "OR"):
            return first
        parts = [first]
        while self.keyword(joiner):
            parts.append(self.unary())
        if self.peek().word in ("AND", "OR"):
            raise self.unexpected()  # SOQL wants parentheses when AND and OR meet
        return Junction(joiner, tuple(parts))

    def unary(self) -> Condition:
        if self.keyword("NOT"):
            return Negation(self.unary())
        if self.punct("("):
            inner = self.condition()
            self.expect_punct(")")
            return inner
        return self.comparison()

    def comparison(self) -> Comparison:
        ref = self.field_ref()
        token = self.peek()
        if token.kind == "op" and token.text in _COMPARISONS:
            self.at += 1
            return Comparison(ref, "!=" if token.text == "<>" else token.text, self.literal())
        if self.keyword("NOT", "IN"):
            return Comparison(ref, "NOT IN", self.literal_list())
        if self.keyword("IN"):
            return Comparison(ref, "IN", self.literal_list())
        if self.keyword("LIKE"):
            value = self.literal()
            if value.kind not in ("string", "param"):
                raise SoqlError("MALFORMED_QUERY", "LIKE needs a quoted pattern", value.pos)
            return Comparison(ref, "LIKE", value)
        raise self.unexpected()

    def literal_list(self) -> tuple[Literal, ...]:
        self.expect_punct("(")
        values = [self.literal()]
        while self.punct(","):
            values.append(self.literal())
        self.expect_punct(")")
        return tuple(values)

    def literal(self) -> Literal:
        token = self.take()
        if token.kind == "string":
            return Literal("string", _unquote(token.text), token.pos)
        if token.kind == "param":
            self.params += 1
            return Literal("param", self.params - 1, token.pos)
        if token.kind == "number":
            number = float(token.text)
            return Literal(
                "number", int(number) if number.is_integer() and "." not in token.text else number, token.pos
            )
        if token.kind == "datetime":
            moment = parse_datetime(token.text)
            if moment is None:  # no zone, or a '+' that arrived as a space
                raise self.unexpected(token)
            return Literal("datetime", moment, token.pos)
        if token.kind == "date" and is_date(token.text):
            return Literal("date", token.text, token.pos)
        if token.word in ("TRUE", "FALSE"):
            return Literal("boolean", token.word == "TRUE", token.pos)
        if token.word == "NULL":
            return Literal("null", None, token.pos)
        raise self.unexpected(token)


def _unquote(text: str) -> str:
    body = text[1:-1]
    if "\\" not in body:
        return body
    out: list[str] = []
    chars = iter(body)
    for char in chars:
        if char == "\\":
            escaped = next(chars, "")
            if escaped not in _ESCAPES:
                raise SoqlError(
                    "MALFORMED_QUERY",
                    f"Invalid string literal '{text}'. Illegal character sequence '\\{escaped}' in string literal.",
                )
            out.append(_ESCAPES[escaped])
        else:
            out.append(char)
    return "".join(out)
