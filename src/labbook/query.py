"""Run filters in MLflow's search syntax: parse once into a small tree, match, sort and limit.

The language (see SPEC §5) is MLflow's `search_runs` filter, widened by `or`, `not` and
parentheses (precedence not > and > or). What labbook decided where MLflow is silent or
where its rules do not fit runs from other trackers:

Identifiers
    `metrics.K`, `params.K`, `tags.K` and `attributes.K`, with MLflow's aliases (`metric`,
    `param`, `parameter(s)`, `tag`, `attribute`, `attr`, `run`). Prefixes and attribute
    names are case-insensitive; keys are not. A bare name is an attribute, as in MLflow 2.
    Attributes: `run_id` (alias `run_uuid`), `run_name` (alias `run name`), `status`,
    `start_time` (alias `created`), `end_time`. A key is written bare, in backticks or in
    double quotes. A bare key may contain letters, digits, `_`, `.`, `/` and `-`
    (`metrics.val/acc`, `tags.mlflow.runName`): the language has no arithmetic, so a `-` or
    `/` right after a prefix can only belong to the key. Anything else needs quoting.

Values
    Strings in single or double quotes (a quote inside is doubled or backslash-escaped);
    numbers as int, float, exponent, with a sign. `==` is read as `=` and `<>` as `!=`.
    `x NOT LIKE p` is read as `not (x LIKE p)`.

Semantics
    - A run without the compared value (missing metric, param, tag, status or time) matches
      no comparison, not even `!=` or `NOT IN`; only an enclosing `not` turns that around.
    - `metrics.K` is the run's summary value, compared as a number (numeric strings in a
      summary count as numbers). NaN compares as IEEE does: it matches only `!=` and
      `NOT IN`. `LIKE`/`ILIKE` are errors on metrics; `IN` lists of numbers are allowed.
    - `params.K` / `tags.K`: when both the run's value and the literal read as decimal
      numbers (`0.1`, `"1e-1"`, 0.1), they compare as numbers; otherwise as text (`str()`,
      booleans as "True"/"False"). `< <= > >=` need a numeric literal (an error otherwise),
      and a value that is not a number matches none of them.
    - `LIKE`/`ILIKE` match the whole text, `%` any run of characters, `_` one character;
      there is no escape character (as in MLflow). LIKE is case-sensitive, ILIKE is not.
    - `attributes.status` compares case-insensitively (MLflow writes FINISHED, local runs
      may write finished), LIKE included. `run_id` and `run_name` are case-sensitive.
    - `start_time`/`end_time` are milliseconds since the epoch (MLflow). labbook also
      accepts an ISO 8601 string (`start_time > '2024-05-01'`). A datetime without a time
      zone, on a run or in a literal, is local time (as `datetime.timestamp` reads it).

Ordering
    `order_by` items are MLflow's (`"metrics.`val/acc` DESC"`, `"params.lr"`); one item may
    also list several keys separated by commas. Missing values come last whatever the
    direction, with NaN just before them (as MLflow). Numbers come before text whatever the
    direction, and numeric-looking params sort as numbers. Sorting is stable; without
    `order_by` the runs keep the order the source gave.

Errors are `QueryError` with a 1-based `column` into the text that was parsed (the filter,
or the one order_by item); node `start`/`end` are 0-based character offsets, end excluded.
"""

from __future__ import annotations

import difflib
import functools
import math
import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, TypeAlias

from .errors import QueryError
from .model import NUMBER_TEXT, Run, as_number

__all__ = [
    "And",
    "Comparison",
    "Expr",
    "Identifier",
    "Not",
    "Or",
    "OrderKey",
    "apply_query",
    "column_of",
    "matches",
    "parse_filter",
    "parse_order_by",
    "sort_runs",
    "to_mlflow_filter",
]

Kind: TypeAlias = Literal["metrics", "params", "tags", "attributes"]
Atom: TypeAlias = str | int | float
Value: TypeAlias = Atom | tuple[Atom, ...]

# -- the tree ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Identifier:
    """A column a filter names: `kind` and `key`, with attribute keys canonical (`run_id`)."""

    kind: Kind
    key: str
    start: int
    end: int

    @property
    def column(self) -> str:
        return f"{self.kind}.{self.key}"


@dataclass(frozen=True)
class Comparison:
    """`ident op value`; `op` upper-case, `value` a tuple for IN / NOT IN."""

    ident: Identifier
    op: str
    value: Value
    start: int
    end: int

    @property
    def column(self) -> str:
        return self.ident.column


@dataclass(frozen=True)
class And:
    items: tuple[Expr, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Or:
    items: tuple[Expr, ...]
    start: int
    end: int


@dataclass(frozen=True)
class Not:
    item: Expr
    start: int
    end: int


Expr: TypeAlias = Comparison | And | Or | Not


@dataclass(frozen=True)
class OrderKey:
    """One order_by key: a canonical column (`metrics.val/acc`) and its direction."""

    column: str
    ascending: bool


def column_of(ident: Identifier) -> str:
    """Gives the canonical column of an identifier, e.g. "metrics.val/acc"."""
    return ident.column


# -- vocabulary ----------------------------------------------------------------------------

_PREFIXES: dict[str, Kind] = {
    "metrics": "metrics",
    "metric": "metrics",
    "params": "params",
    "param": "params",
    "parameter": "params",
    "parameters": "params",
    "tags": "tags",
    "tag": "tags",
    "attributes": "attributes",
    "attribute": "attributes",
    "attr": "attributes",
    "run": "attributes",
}

_ATTRIBUTES: dict[str, str] = {
    "run_id": "run_id",
    "run_uuid": "run_id",
    "run_name": "run_name",
    "run name": "run_name",
    "status": "status",
    "start_time": "start_time",
    "created": "start_time",
    "end_time": "end_time",
}
_ATTRIBUTE_NAMES = "run_id, run_name, status, start_time, end_time"
_TIME_ATTRIBUTES = frozenset({"start_time", "end_time"})

_KEYWORDS = frozenset({"AND", "OR", "NOT", "IN", "LIKE", "ILIKE"})
_ORDERING = frozenset({"<", "<=", ">", ">="})
_EQUALITY = frozenset({"=", "!="})
_LIKES = frozenset({"LIKE", "ILIKE"})
_LISTS = frozenset({"IN", "NOT IN"})
_OPERATORS_HINT = "Operators are = != < <= > >= LIKE ILIKE IN NOT IN"

# A literal number, and what counts as a number inside a param or tag value.
_NUMBER = NUMBER_TEXT
_NUMBER_TAIL = re.compile(r"[\w.]+")
_WORD = re.compile(r"[^\W\d]\w*")
_BARE_KEY = re.compile(r"[\w./-]+")
_OPERATOR = re.compile(r"!=|<>|<=|>=|==|=|<|>")
_CANONICAL_OP = {"==": "=", "<>": "!="}


# -- tokens --------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Token:
    kind: Literal["name", "string", "number", "op", "(", ")", ",", "end"]
    text: str  # as written
    start: int
    end: int
    value: Atom = ""  # a string's content, a number, an operator, or a name's key
    prefix: str | None = None  # name tokens: the part before the dot, if any
    key_start: int = 0  # name tokens: where the key begins
    quoted: bool = False  # name tokens: the key (or bare word) was quoted

    def is_keyword(self, *words: str) -> bool:
        return (
            self.kind == "name"
            and self.prefix is None
            and not self.quoted
            and str(self.value).upper() in words
        )


def _fail(text: str, what: str, at: int, problem: str, hint: str | None = None) -> QueryError:
    """Gives the QueryError for a problem at offset `at`, quoting the whole text."""
    return QueryError(f"{problem} (in {what} {text!r})", column=at + 1, hint=hint)


def _read_quoted(text: str, what: str, start: int, escapes: bool) -> tuple[str, int]:
    """Gives the content of the quoted run at `start` and the offset just after it."""
    quote = text[start]
    out: list[str] = []
    i = start + 1
    while i < len(text):
        ch = text[i]
        if escapes and ch == "\\" and i + 1 < len(text) and text[i + 1] in (quote, "\\"):
            out.append(text[i + 1])
            i += 2
        elif ch == quote:
            # SQL writes a quote inside a string by doubling it.
            if escapes and i + 1 < len(text) and text[i + 1] == quote:
                out.append(quote)
                i += 2
                continue
            return "".join(out), i + 1
        else:
            out.append(ch)
            i += 1
    kind = "string" if escapes else "quoted key"
    raise _fail(
        text, what, start, f"unterminated {kind} {text[start:]!r}", hint=f"Close it with {quote}"
    )


def _tokenize(text: str, what: str) -> list[_Token]:
    """Gives the tokens of a filter or order_by item, ending with an "end" token."""
    tokens: list[_Token] = []
    i = 0
    n = len(text)
    while i < n:
        ch = text[i]
        if ch.isspace():
            i += 1
            continue
        if ch in "(),":
            punct: Literal["(", ")", ","] = "(" if ch == "(" else ")" if ch == ")" else ","
            tokens.append(_Token(punct, ch, i, i + 1))
            i += 1
            continue
        if ch in "'\"":
            content, end = _read_quoted(text, what, i, escapes=True)
            tokens.append(_Token("string", text[i:end], i, end, content))
            i = end
            continue
        number = _NUMBER.match(text, i)
        if number:
            end = number.end()
            # `1abc` or `1.2.3` is one mistyped thing, not a number followed by a name.
            tail = _NUMBER_TAIL.match(text, end)
            if tail:
                bad = text[i : tail.end()]
                raise _fail(text, what, i, f"malformed number {bad!r}")
            literal = number.group()
            value: Atom = float(literal) if re.search(r"[.eE]", literal) else int(literal)
            tokens.append(_Token("number", literal, i, end, value))
            i = end
            continue
        op = _OPERATOR.match(text, i)
        if op:
            tokens.append(
                _Token("op", op.group(), i, op.end(), _CANONICAL_OP.get(op.group(), op.group()))
            )
            i = op.end()
            continue
        if ch == "`" or _WORD.match(text, i):
            tokens.append(_read_name(text, what, i))
            i = tokens[-1].end
            continue
        raise _fail(text, what, i, f"unexpected character {ch!r}")
    tokens.append(_Token("end", "", n, n))
    return tokens


def _read_name(text: str, what: str, start: int) -> _Token:
    """Gives the name token at `start`: `word`, `` `word` `` or `prefix.key` (key maybe quoted)."""
    if text[start] == "`":
        first, i = _read_quoted(text, what, start, escapes=False)
        first_quoted = True
    else:
        word = _WORD.match(text, start)
        assert word is not None  # the caller checked
        first, i = word.group(), word.end()
        first_quoted = False
    if i >= len(text) or text[i] != ".":
        return _Token("name", text[start:i], start, i, first, None, start, first_quoted)
    key_start = i + 1
    if key_start < len(text) and text[key_start] in '`"':
        key, end = _read_quoted(text, what, key_start, escapes=False)
        quoted = True
    else:
        bare = _BARE_KEY.match(text, key_start)
        if bare is None:
            raise _fail(
                text,
                what,
                key_start,
                f"missing key after {text[start:key_start]!r}",
                hint=f"Write {first}.KEY, quoting the key in backticks if it has spaces",
            )
        key, end = bare.group(), bare.end()
        quoted = False
    if not key:
        raise _fail(text, what, key_start, f"empty key in {text[start:end]!r}")
    return _Token("name", text[start:end], start, end, key, first, key_start, quoted)


# -- parsing -------------------------------------------------------------------------------


class _Parser:
    """Recursive descent over the tokens of one filter or order_by item."""

    def __init__(self, text: str, what: str) -> None:
        self.text = text
        self.what = what
        self.tokens = _tokenize(text, what)
        self.pos = 0

    def peek(self) -> _Token:
        return self.tokens[self.pos]

    def advance(self) -> _Token:
        tok = self.tokens[self.pos]
        if tok.kind != "end":
            self.pos += 1
        return tok

    def fail(self, at: int, problem: str, hint: str | None = None) -> QueryError:
        return _fail(self.text, self.what, at, problem, hint)

    def shown(self, tok: _Token) -> str:
        return f"the end of the {self.what}" if tok.kind == "end" else repr(tok.text)

    # expr := or ; or := and (OR and)* ; and := not (AND not)* ; not := NOT not | primary
    def parse_or(self) -> Expr:
        items = [self.parse_and()]
        while self.peek().is_keyword("OR"):
            self.advance()
            items.append(self.parse_and())
        return items[0] if len(items) == 1 else Or(tuple(items), items[0].start, items[-1].end)

    def parse_and(self) -> Expr:
        items = [self.parse_not()]
        while self.peek().is_keyword("AND"):
            self.advance()
            items.append(self.parse_not())
        return items[0] if len(items) == 1 else And(tuple(items), items[0].start, items[-1].end)

    def parse_not(self) -> Expr:
        if self.peek().is_keyword("NOT"):
            tok = self.advance()
            inner = self.parse_not()
            return Not(inner, tok.start, inner.end)
        return self.parse_primary()

    def parse_primary(self) -> Expr:
        tok = self.peek()
        if tok.kind != "(":
            return self.parse_comparison()
        self.advance()
        inner = self.parse_or()
        close = self.peek()
        if close.kind == ")":
            self.advance()
            return inner
        if close.kind == "end":
            raise self.fail(tok.start, "'(' is never closed", hint="Add a ')'")
        raise self.fail(
            close.start,
            f"expected ')', 'and' or 'or', found {self.shown(close)}",
            hint="Join conditions with 'and' or 'or'",
        )

    def parse_identifier(self) -> Identifier:
        tok = self.peek()
        if tok.kind == "end" or tok.is_keyword(*_KEYWORDS):
            raise self.fail(
                tok.start,
                f"expected a condition, found {self.shown(tok)}",
                hint="A condition looks like metrics.acc > 0.5",
            )
        if tok.kind != "name":
            raise self.fail(
                tok.start,
                f"expected a column such as metrics.acc, found {self.shown(tok)}",
            )
        self.advance()
        return self.resolve(tok)

    def resolve(self, tok: _Token) -> Identifier:
        key = str(tok.value)
        if tok.prefix is None:
            attribute = _ATTRIBUTES.get(key.lower())
            if attribute is None:
                raise self.fail(
                    tok.start,
                    f"unknown column {tok.text!r}",
                    hint=f"Write metrics.{key}, params.{key} or tags.{key}; bare names are "
                    f"the attributes {_ATTRIBUTE_NAMES}",
                )
            return Identifier("attributes", attribute, tok.start, tok.end)
        kind = _PREFIXES.get(tok.prefix.lower())
        if kind is None:
            if tok.prefix.lower() in ("dataset", "datasets"):
                raise self.fail(tok.start, f"{tok.text!r}: dataset filters are not supported")
            close = difflib.get_close_matches(tok.prefix.lower(), list(_PREFIXES), n=1)
            # Suggest the canonical spelling even when an alias is the nearer match.
            hint = f"Did you mean {_PREFIXES[close[0]]}.?" if close else None
            raise self.fail(
                tok.start,
                f"unknown prefix {tok.prefix!r}",
                hint=hint or "Columns start with metrics., params., tags. or attributes.",
            )
        if kind == "attributes":
            attribute = _ATTRIBUTES.get(key.lower())
            if attribute is None:
                raise self.fail(
                    tok.key_start,
                    f"unknown attribute {key!r}",
                    hint=f"Attributes are {_ATTRIBUTE_NAMES}",
                )
            key = attribute
        return Identifier(kind, key, tok.start, tok.end)

    def parse_comparison(self) -> Expr:
        ident = self.parse_identifier()
        tok = self.peek()
        negated = False
        if tok.is_keyword("NOT"):
            self.advance()
            follow = self.peek()
            if not follow.is_keyword("IN", "LIKE", "ILIKE"):
                raise self.fail(
                    follow.start,
                    f"expected IN, LIKE or ILIKE after NOT, found {self.shown(follow)}",
                )
            negated = True
            op_tok = self.advance()
            op = str(op_tok.value).upper()
            op_start = tok.start
        elif tok.kind == "op" or tok.is_keyword("IN", "LIKE", "ILIKE"):
            op_tok = self.advance()
            op = str(op_tok.value).upper()
            op_start = tok.start
        else:
            raise self.fail(
                tok.start,
                f"expected an operator after {self.text[ident.start : ident.end]!r}, "
                f"found {self.shown(tok)}",
                hint=_OPERATORS_HINT,
            )
        if negated and op == "IN":
            op, negated = "NOT IN", False
        value, end = self.parse_value(ident, op, op_start, op_tok)
        comparison = Comparison(ident, op, value, ident.start, end)
        # `x NOT LIKE p` has no MLflow operator of its own: it is `not (x LIKE p)`.
        return Not(comparison, ident.start, end) if negated else comparison

    def parse_value(
        self, ident: Identifier, op: str, op_start: int, op_tok: _Token
    ) -> tuple[Value, int]:
        self.check_operator(ident, op, op_start)
        if op not in _LISTS:
            tok = self.advance()
            return self.atom(ident, op, tok, op_tok), tok.end
        open_tok = self.advance()
        if open_tok.kind != "(":
            raise self.fail(
                open_tok.start,
                f"{op} needs a list in parentheses, found {self.shown(open_tok)}",
                hint=f"Write {op} ('a', 'b')",
            )
        items: list[Atom] = []
        while True:
            tok = self.advance()
            if tok.kind == "end":
                raise self.fail(open_tok.start, f"the {op} list is never closed", hint="Add a ')'")
            if tok.kind == ")" and not items:
                raise self.fail(tok.start, f"empty {op} list", hint="List at least one value")
            items.append(self.atom(ident, op, tok, op_tok))
            sep = self.advance()
            if sep.kind == ")":
                return tuple(items), sep.end
            if sep.kind == "end":
                raise self.fail(open_tok.start, f"the {op} list is never closed", hint="Add a ')'")
            if sep.kind != ",":
                raise self.fail(
                    sep.start,
                    f"expected ',' or ')' in the {op} list, found {self.shown(sep)}",
                )

    def check_operator(self, ident: Identifier, op: str, at: int) -> None:
        """Raises when `op` does not apply to the identifier's kind of value."""
        name = self.text[ident.start : ident.end]
        if ident.kind == "metrics" and op in _LIKES:
            raise self.fail(
                at,
                f"{op} does not apply to metric {name!r}: metrics are numbers",
                hint="Compare metrics with = != < <= > >= or IN",
            )
        if ident.kind == "attributes":
            if ident.key in _TIME_ATTRIBUTES and op not in _ORDERING | _EQUALITY:
                raise self.fail(
                    at,
                    f"{op} does not apply to {name!r}: it is a time",
                    hint="Compare times with = != < <= > >=",
                )
            if ident.key not in _TIME_ATTRIBUTES and op in _ORDERING:
                raise self.fail(
                    at,
                    f"{op!r} does not apply to {name!r}: it is text",
                    hint="Compare it with = != LIKE ILIKE IN NOT IN",
                )

    def atom(self, ident: Identifier, op: str, tok: _Token, op_tok: _Token) -> Atom:
        """Gives the literal in `tok`, checked against the identifier and operator."""
        if tok.kind == "name":
            problem = (
                f"cannot compare with the column {tok.text!r}"
                if tok.prefix is not None
                else f"unquoted value {tok.text!r}"
            )
            raise self.fail(tok.start, problem, hint=f"Quote text values: '{tok.value}'")
        if tok.kind not in ("string", "number"):
            raise self.fail(
                tok.start, f"expected a value after {op_tok.text!r}, found {self.shown(tok)}"
            )
        name = self.text[ident.start : ident.end]
        number = _as_number(tok.value)
        if ident.kind == "metrics":
            if number is None:
                raise self.fail(tok.start, f"metric {name!r} compares with numbers, not {tok.text}")
            return number
        if ident.kind in ("params", "tags"):
            if op in _ORDERING and number is None:
                raise self.fail(
                    tok.start,
                    f"{op!r} needs a number, not {tok.text}",
                    hint="Text values compare with = != LIKE ILIKE IN NOT IN",
                )
            if op in _LIKES and tok.kind != "string":
                raise self.fail(
                    tok.start,
                    f"{op} needs a quoted pattern, not {tok.text}",
                    hint=f"Write {op} '{tok.text}%'",
                )
            return tok.value
        if ident.key in _TIME_ATTRIBUTES:
            if tok.kind == "number":
                return tok.value
            return self.time_literal(tok)
        if tok.kind != "string":
            raise self.fail(
                tok.start,
                f"{name!r} compares with text, not {tok.text}",
                hint=f"Quote it: '{tok.text}'",
            )
        return tok.value

    def time_literal(self, tok: _Token) -> Atom:
        """Gives milliseconds since the epoch for a quoted number or ISO 8601 time."""
        text = str(tok.value).strip()
        number = _as_number(text)
        if number is not None:
            return number
        try:
            when = datetime.fromisoformat(text)
        except ValueError:
            raise self.fail(
                tok.start,
                f"{tok.text} is not a time",
                hint="Give milliseconds since the epoch or an ISO 8601 date like '2024-05-01'",
            ) from None
        return _millis(when)


def parse_filter(text: str) -> Expr:
    """Gives the tree of a filter; raises QueryError (with a 1-based column) if it is wrong."""
    parser = _Parser(text, "filter")
    if parser.peek().kind == "end":
        raise parser.fail(0, "empty filter", hint="Leave the filter out to keep every run")
    expr = parser.parse_or()
    tok = parser.peek()
    if tok.kind == ")":
        raise parser.fail(tok.start, "unmatched ')'", hint="Remove it or open it with '('")
    if tok.kind != "end":
        raise parser.fail(
            tok.start,
            f"unexpected {tok.text!r} after a complete condition",
            hint="Join conditions with 'and' or 'or'",
        )
    return expr


def parse_order_by(items: Sequence[str]) -> list[OrderKey]:
    """Gives the keys of MLflow order_by strings ("metrics.`val/acc` DESC", "params.lr")."""
    # A lone string is one item, not a sequence of one-letter items.
    if isinstance(items, str):
        items = [items]
    keys: list[OrderKey] = []
    for item in items:
        parser = _Parser(item, "order_by")
        while True:
            if parser.peek().kind == "end":
                raise parser.fail(
                    parser.peek().start, "expected a column", hint='For example "metrics.acc DESC"'
                )
            ident = parser.parse_identifier()
            ascending = True
            tok = parser.peek()
            if tok.is_keyword("ASC", "DESC"):
                ascending = str(tok.value).upper() == "ASC"
                parser.advance()
                tok = parser.peek()
            keys.append(OrderKey(ident.column, ascending))
            if tok.kind == "end":
                break
            if tok.kind != ",":
                raise parser.fail(
                    tok.start, f"expected ASC, DESC or the end, found {parser.shown(tok)}"
                )
            parser.advance()
    return keys


# -- values --------------------------------------------------------------------------------


def _as_number(value: object) -> int | float | None:
    """Gives the number a value reads as (ints stay ints), or None; booleans are not numbers."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return value
    if isinstance(value, str):
        text = value.strip()
        if _NUMBER.fullmatch(text):
            return float(text) if re.search(r"[.eE]", text) else int(text)
    return None


def _metric_number(value: object) -> int | float | None:
    """Gives a summary value as a metric number; numeric strings (even "nan") count."""
    number = _as_number(value)
    if number is None and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            return None
    return number


def _as_text(value: object) -> str:
    """Gives a param or tag value as MLflow stores it (str(); True -> "True")."""
    return value if isinstance(value, str) else str(value)


def _millis(when: datetime) -> int | float:
    """Gives milliseconds since the epoch; naive datetimes are local time."""
    ms = when.timestamp() * 1000
    return int(ms) if ms.is_integer() else ms


@functools.lru_cache(maxsize=256)
def _like_regex(pattern: str, ignore_case: bool) -> re.Pattern[str]:
    parts = [".*" if ch == "%" else "." if ch == "_" else re.escape(ch) for ch in pattern]
    flags = re.DOTALL | (re.IGNORECASE if ignore_case else 0)
    return re.compile("".join(parts), flags)


def _like(text: str, pattern: str, ignore_case: bool) -> bool:
    return _like_regex(pattern, ignore_case).fullmatch(text) is not None


_COMPARE: dict[str, Callable[[float, float], bool]] = {
    "=": lambda a, b: a == b,
    "!=": lambda a, b: a != b,
    "<": lambda a, b: a < b,
    "<=": lambda a, b: a <= b,
    ">": lambda a, b: a > b,
    ">=": lambda a, b: a >= b,
}


def _compare_numbers(left: float, op: str, value: Value) -> bool:
    if op in _LISTS:
        assert isinstance(value, tuple)
        hit = any(left == _as_number(v) for v in value)
        return hit if op == "IN" else not hit
    right = _as_number(value)
    return right is not None and _COMPARE[op](left, right)


def _equal_scalar(raw: object, literal: Atom) -> bool:
    """Tells whether a param/tag value equals a literal: as numbers if both are, else as text."""
    left, right = _as_number(raw), _as_number(literal)
    if left is not None and right is not None:
        return left == right
    return _as_text(raw) == _as_text(literal)


def _compare_scalar(raw: object, op: str, value: Value) -> bool:
    if op in _LIKES:
        return _like(_as_text(raw), str(value), ignore_case=op == "ILIKE")
    if op in _LISTS:
        assert isinstance(value, tuple)
        hit = any(_equal_scalar(raw, v) for v in value)
        return hit if op == "IN" else not hit
    assert not isinstance(value, tuple)
    if op == "=":
        return _equal_scalar(raw, value)
    if op == "!=":
        return not _equal_scalar(raw, value)
    left, right = _as_number(raw), _as_number(value)
    return left is not None and right is not None and _COMPARE[op](left, right)


def _compare_text(text: str, op: str, value: Value, fold: bool) -> bool:
    def norm(s: Atom) -> str:
        return str(s).casefold() if fold else str(s)

    if op in _LIKES:
        return _like(text, str(value), ignore_case=fold or op == "ILIKE")
    if op in _LISTS:
        assert isinstance(value, tuple)
        hit = norm(text) in {norm(v) for v in value}
        return hit if op == "IN" else not hit
    assert not isinstance(value, tuple)
    same = norm(text) == norm(value)
    return same if op == "=" else not same


def _attribute(run: Run, key: str) -> object:
    """Gives a run's attribute: text, milliseconds since the epoch, or None."""
    if key == "run_id":
        return run.id
    if key == "run_name":
        return run.name
    if key == "status":
        return run.status
    when = run.start_time if key == "start_time" else run.end_time
    return None if when is None else _millis(when)


def _lookup(run: Run, ident: Identifier) -> object:
    if ident.kind == "metrics":
        return _metric_number(run.summary.get(ident.key))
    if ident.kind == "params":
        return run.params.get(ident.key)
    if ident.kind == "tags":
        return run.tags.get(ident.key)
    return _attribute(run, ident.key)


def _matches_comparison(c: Comparison, run: Run) -> bool:
    raw = _lookup(run, c.ident)
    # MLflow: a run without the value matches no comparison, `!=` included.
    if raw is None:
        return False
    if c.ident.kind == "metrics" or c.ident.key in _TIME_ATTRIBUTES:
        assert isinstance(raw, int | float)
        return _compare_numbers(raw, c.op, c.value)
    if c.ident.kind in ("params", "tags"):
        return _compare_scalar(raw, c.op, c.value)
    return _compare_text(str(raw), c.op, c.value, fold=c.ident.key == "status")


def matches(expr: Expr | None, run: Run) -> bool:
    """Tells whether a run satisfies the filter (every run does when there is none)."""
    if expr is None:
        return True
    if isinstance(expr, Comparison):
        return _matches_comparison(expr, run)
    if isinstance(expr, And):
        return all(matches(item, run) for item in expr.items)
    if isinstance(expr, Or):
        return any(matches(item, run) for item in expr.items)
    return not matches(expr.item, run)


# -- ordering ------------------------------------------------------------------------------

_MISSING, _NAN, _PRESENT = 2, 1, 0
_SortKey: TypeAlias = tuple[int, int, float | str]


def _identifier_of_column(column: str) -> Identifier:
    """Gives the identifier of a canonical column such as "metrics.val/acc"."""
    prefix, _, key = column.partition(".")
    kind = _PREFIXES.get(prefix)
    if kind is None or not key:
        raise QueryError(f"order_by column {column!r} is not canonical (e.g. metrics.acc)")
    return Identifier(kind, key, 0, len(column))


def _sort_value(run: Run, ident: Identifier) -> _SortKey:
    """Gives (group, type, value): present < NaN < missing, numbers < text."""
    raw = _lookup(run, ident)
    if raw is None:
        return (_MISSING, 0, 0.0)
    if ident.kind != "attributes" or ident.key in _TIME_ATTRIBUTES:
        # Unlike model.sort_key, NaN has a place of its own: after values, before missing.
        if isinstance(raw, float) and math.isnan(raw):
            return (_NAN, 0, 0.0)
        number = as_number(raw)
        if number is not None:
            return (_PRESENT, 0, number)
    text = _as_text(raw)
    # Status sorts as it compares: without case.
    return (_PRESENT, 1, text.casefold() if ident.key == "status" else text)


def _descending_value(run: Run, ident: Identifier) -> _SortKey:
    group, kind, value = _sort_value(run, ident)
    return (-group, -kind, value)


def sort_runs(runs: Sequence[Run], keys: Sequence[OrderKey]) -> list[Run]:
    """Gives the runs ordered by the keys; missing values last either way, stable."""
    out = list(runs)
    # One stable sort per key, last key first, leaves the first key the most significant.
    for key in reversed(keys):
        ident = _identifier_of_column(key.column)
        if key.ascending:
            out.sort(key=functools.partial(_sort_value, ident=ident))
        else:
            # Reversed order, so negate group and type: values stay before NaN and
            # missing, and numbers before text, while the values themselves descend.
            out.sort(key=functools.partial(_descending_value, ident=ident), reverse=True)
    return out


def apply_query(
    runs: Iterable[Run],
    filter: str | None,
    order_by: Sequence[str] | None,
    limit: int | None,
) -> list[Run]:
    """Gives the runs that match `filter`, ordered by `order_by`, at most `limit` of them."""
    # Parse everything first, so a bad query fails even when there are no runs.
    expr = parse_filter(filter) if filter is not None and filter.strip() else None
    keys = parse_order_by(order_by) if order_by else []
    if limit is not None and limit < 0:
        raise QueryError(f"limit must be 0 or more, not {limit}")
    selected = [run for run in runs if matches(expr, run)]
    if keys:
        selected = sort_runs(selected, keys)
    return selected if limit is None else selected[:limit]


# -- MLflow server filters -----------------------------------------------------------------

# Keys that sqlparse (under MLflow's parser) could read as SQL; they go in backticks.
_SQL_WORDS = frozenset(
    "AND OR NOT IN IS LIKE ILIKE NULL TRUE FALSE SELECT FROM WHERE ORDER GROUP BY LIMIT "
    "ASC DESC AS ON JOIN CASE WHEN THEN ELSE END BETWEEN ALL ANY UNION VALUES SET TABLE "
    "KEY INDEX DEFAULT USER".split()
)


def _mlflow_key(key: str) -> str | None:
    if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", key) and key.upper() not in _SQL_WORDS:
        return key
    return None if "`" in key else f"`{key}`"


def _mlflow_string(text: str) -> str | None:
    # MLflow strips the quotes and keeps the rest verbatim (no unescaping), so a
    # value with a backslash or both kinds of quote cannot be written for it.
    if "\\" in text:
        return None
    if "'" not in text:
        return f"'{text}'"
    if '"' not in text:
        return f'"{text}"'
    return None


def _mlflow_number(value: Atom) -> str | None:
    if isinstance(value, str) or not math.isfinite(value):
        return None
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    # sqlparse reads `1e20` and `1e-05` as numbers but not `1e+20`.
    return repr(value).replace("e+", "e")


def _mlflow_comparison(c: Comparison) -> str | None:
    """Gives one comparison as MLflow's server evaluates it identically, or None."""
    ident, op, value = c.ident, c.op, c.value
    if ident.kind == "attributes":
        column = f"attributes.{ident.key}"
    else:
        key = _mlflow_key(ident.key)
        if key is None:
            return None
        column = f"{ident.kind}.{key}"
    if ident.kind == "metrics" or ident.key in _TIME_ATTRIBUTES:
        if op in _LISTS or isinstance(value, tuple):
            return None
        if ident.kind == "attributes" and isinstance(value, float) and not value.is_integer():
            return None  # MLflow reads times as whole milliseconds
        number = _mlflow_number(value)
        if number is None:
            return None
        return f"{column} {op} {number}"
    if ident.kind in ("params", "tags"):
        # MLflow compares params and tags as text only; a numeric literal would match
        # fewer runs there ("1e-1" != "0.1") than here, so it stays client-side.
        if isinstance(value, tuple) or op not in _EQUALITY | _LIKES or not isinstance(value, str):
            return None
        if op in _EQUALITY and _as_number(value) is not None:
            return None
        literal = _mlflow_string(value)
        return None if literal is None else f"{column} {op} {literal}"
    if ident.key == "status":
        if isinstance(value, tuple) or op in _LISTS:
            return None
        # MLflow's statuses are upper-case; labbook's comparison ignores case.
        if op in _LIKES:
            op = "ILIKE"
        else:
            value = str(value).upper()
    if isinstance(value, tuple):
        if ident.key != "run_id":  # MLflow takes lists for run_id only
            return None
        literals = [_mlflow_string(str(v)) for v in value]
        if any(lit is None for lit in literals):
            return None
        return f"{column} {op} ({', '.join(str(lit) for lit in literals)})"
    if op in _LISTS:
        return None
    literal = _mlflow_string(str(value))
    return None if literal is None else f"{column} {op} {literal}"


def _conjuncts(expr: Expr) -> list[Comparison] | None:
    if isinstance(expr, Comparison):
        return [expr]
    if isinstance(expr, And):
        out: list[Comparison] = []
        for item in expr.items:
            sub = _conjuncts(item)
            if sub is None:
                return None
            out.extend(sub)
        return out
    return None


def to_mlflow_filter(expr: Expr) -> str | None:
    """Gives the filter as an MLflow server takes it (AND of comparisons), or None.

    None means the filter has `or`/`not`, or a comparison MLflow would read differently
    (numbers against params, IN on metrics, ...): the caller evaluates it client-side.
    """
    comparisons = _conjuncts(expr)
    if comparisons is None:
        return None
    parts: list[str] = []
    for comparison in comparisons:
        text = _mlflow_comparison(comparison)
        if text is None:
            return None
        parts.append(text)
    return " AND ".join(parts) if parts else None
