"""GitHub Actions expressions (`${{ }}`): parsed and evaluated the way actions/runner does.

The semantics follow the runner's expression engine (DTExpressions2): JavaScript-like loose equality
with case-insensitive string comparison, `&&`/`||` returning an operand, numbers as doubles printed with
the "G15" format, property access that yields null instead of failing, `.*` object filters.

Values are Python objects: None (null), bool, float (every number), str, list (array) and Mapping
(object). GitHub's own contexts look keys up case-insensitively (CaseInsensitiveDict); the `env`
context is case-sensitive on Linux (a plain dict).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass

from bench.action_errors import ExpressionError, ExpressionEvaluationError, UnsupportedExpression

MAX_EXPRESSION_LENGTH = 21000
MAX_EXPRESSION_DEPTH = 50
_INT32_MAX = 2**31 - 1

STATUS_FUNCTIONS = frozenset({"success", "failure", "always", "cancelled"})
# Contexts GitHub offers in composite actions that the bench does not model: refuse, never guess.
UNMODELLED_CONTEXTS = frozenset({"strategy", "matrix", "job", "vars"})
_ALWAYS_AVAILABLE_FUNCTIONS = frozenset({"contains", "startswith", "endswith", "format", "join", "tojson", "fromjson"})
_FUNCTION_ARITY = {
    "contains": (2, 2),
    "startswith": (2, 2),
    "endswith": (2, 2),
    "format": (1, 255),
    "join": (1, 2),
    "tojson": (1, 1),
    "fromjson": (1, 1),
    "hashfiles": (1, 255),
    "success": (0, 0),
    "failure": (0, 0),
    "always": (0, 0),
    "cancelled": (0, 0),
}


@dataclass(frozen=True)
class Site:
    """Where an expression sits in action.yml, and which contexts and functions GitHub allows there."""

    description: str
    contexts: frozenset[str]
    functions: frozenset[str] = frozenset()


_STEP_CONTEXTS = frozenset({"github", "inputs", "strategy", "matrix", "steps", "job", "runner", "env"})
STEP_SITE = Site("a step field", _STEP_CONTEXTS, frozenset({"hashfiles"}))
IF_SITE = Site("a step `if:`", _STEP_CONTEXTS, frozenset({"hashfiles"}) | STATUS_FUNCTIONS)
OUTPUT_SITE = Site("an output `value:`", _STEP_CONTEXTS)
INPUT_DEFAULT_SITE = Site(
    "an input `default:`",
    frozenset({"github", "strategy", "matrix", "job", "runner"}),
    frozenset({"hashfiles"}),
)


# ---------------------------------------------------------------------------------------------------
# Values and the runner's conversions


def fold_case(text: str) -> str:
    """The key .NET's OrdinalIgnoreCase compares by: per-character simple upper-casing."""
    if text.isascii():
        return text.upper()
    return "".join(upper if len(upper := char.upper()) == 1 else char for char in text)


class CaseInsensitiveDict(Mapping[str, object]):
    """An object of GitHub's contexts: keys keep their spelling, lookups ignore case."""

    def __init__(
        self, items: Mapping[str, object] | Sequence[tuple[str, object]] = (), *, replace: bool = False
    ) -> None:
        """With `replace`, a key differing only by case overwrites the value (keeping the first spelling),
        as the runner's indexer does; otherwise it is an error, as the runner's Add() is."""
        self._items: dict[str, tuple[str, object]] = {}
        pairs = items.items() if isinstance(items, Mapping) else items
        for key, value in pairs:
            folded = fold_case(key)
            if folded in self._items and self._items[folded][0] != key:
                if not replace:
                    raise ValueError(f"keys {self._items[folded][0]!r} and {key!r} differ only by case")
                key = self._items[folded][0]
            self._items[folded] = (key, value)

    def __getitem__(self, key: str) -> object:
        return self._items[fold_case(key)][1]

    def __iter__(self) -> Iterator[str]:
        return (key for key, _ in self._items.values())

    def __len__(self) -> int:
        return len(self._items)

    def __repr__(self) -> str:
        return f"CaseInsensitiveDict({dict(self.items())!r})"


class FilteredArray(list):
    """The result of a `.*` filter: further property access maps over its items."""


def to_context_value(value: object) -> object:
    """Converts JSON-like Python data into expression values (numbers become floats, objects ignore case)."""
    if value is None or isinstance(value, bool | str):
        return value
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, Mapping):
        return CaseInsensitiveDict([(str(k), to_context_value(v)) for k, v in value.items()])
    if isinstance(value, list | tuple):
        return [to_context_value(item) for item in value]
    raise TypeError(f"cannot use a {type(value).__name__} as an expression value: {value!r}")


def _kind(value: object) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    return "object"


def _is_primitive(value: object) -> bool:
    return _kind(value) in ("null", "boolean", "number", "string")


_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
_INFINITY = re.compile(r"([+-]?)infinity", re.IGNORECASE)
_NAN = re.compile(r"[+-]?nan", re.IGNORECASE)


def _as_int32(value: int) -> float:
    """Hex and octal strings parse as a 32-bit two's complement integer, as .NET's Int32 parsing does."""
    if value > 0xFFFFFFFF:
        return math.nan
    return float(value - 2**32 if value > _INT32_MAX else value)


def parse_number(text: str) -> float:
    """JavaScript's Number(string) as the runner implements it: '' is 0, junk is NaN."""
    text = text.strip()
    if not text:
        return 0.0
    if _DECIMAL.fullmatch(text):
        return float(text)
    if infinity := _INFINITY.fullmatch(text):
        return -math.inf if infinity.group(1) == "-" else math.inf
    if _NAN.fullmatch(text):
        return math.nan
    if text.startswith("0x") and len(text) > 2 and all(c in "0123456789abcdefABCDEF" for c in text[2:]):
        return _as_int32(int(text[2:], 16))
    if text.startswith("0o") and len(text) > 2 and all(c in "01234567" for c in text[2:]):
        return _as_int32(int(text[2:], 8))
    return math.nan


def format_number(number: float) -> str:
    """A number as text: .NET's "G15" format (15 significant digits, E+XX exponent)."""
    if math.isnan(number):
        return "NaN"
    if math.isinf(number):
        return "Infinity" if number > 0 else "-Infinity"
    return format(number, ".15g").replace("e", "E")


def to_number(value: object) -> float:
    kind = _kind(value)
    if kind == "null":
        return 0.0
    if kind == "boolean":
        return 1.0 if value else 0.0
    if kind == "number":
        return value  # type: ignore[return-value]
    if kind == "string":
        return parse_number(value)  # type: ignore[arg-type]
    return math.nan


def to_str(value: object) -> str:
    """The string form GitHub substitutes into text: null is '', objects are 'Object'/'Array'."""
    kind = _kind(value)
    if kind == "null":
        return ""
    if kind == "boolean":
        return "true" if value else "false"
    if kind == "number":
        return format_number(value)  # type: ignore[arg-type]
    if kind == "string":
        return value  # type: ignore[return-value]
    return "Array" if kind == "array" else "Object"


def is_truthy(value: object) -> bool:
    kind = _kind(value)
    if kind == "null":
        return False
    if kind == "boolean":
        return bool(value)
    if kind == "number":
        return value != 0 and not math.isnan(value)  # type: ignore[arg-type]
    if kind == "string":
        return value != ""
    return True


def _coerce(left: object, right: object) -> tuple[object, object]:
    """Brings two operands to one kind like JavaScript's abstract comparison; objects are never coerced."""
    left_kind, right_kind = _kind(left), _kind(right)
    if left_kind == right_kind:
        return left, right
    if left_kind == "number" and right_kind == "string":
        return left, to_number(right)
    if left_kind == "string" and right_kind == "number":
        return to_number(left), right
    if left_kind in ("boolean", "null"):
        return _coerce(to_number(left), right)
    if right_kind in ("boolean", "null"):
        return _coerce(left, to_number(right))
    return left, right


def loose_equal(left: object, right: object) -> bool:
    left, right = _coerce(left, right)
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "null":
        return True
    if kind == "number":
        return left == right  # NaN compares unequal by itself
    if kind == "string":
        return fold_case(left) == fold_case(right)  # type: ignore[arg-type]
    if kind == "boolean":
        return left == right
    return left is right


def _loose_greater(left: object, right: object) -> bool:
    left, right = _coerce(left, right)
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "number":
        return left > right  # type: ignore[operator]
    if kind == "string":
        return fold_case(left) > fold_case(right)  # type: ignore[arg-type]
    if kind == "boolean":
        return bool(left) and not right
    return False


def _loose_less(left: object, right: object) -> bool:
    left, right = _coerce(left, right)
    kind = _kind(left)
    if kind != _kind(right):
        return False
    if kind == "number":
        return left < right  # type: ignore[operator]
    if kind == "string":
        return fold_case(left) < fold_case(right)  # type: ignore[arg-type]
    if kind == "boolean":
        return not left and bool(right)
    return False


_COMPARISONS: dict[str, Callable[[object, object], bool]] = {
    "==": loose_equal,
    "!=": lambda a, b: not loose_equal(a, b),
    ">": _loose_greater,
    "<": _loose_less,
    ">=": lambda a, b: loose_equal(a, b) or _loose_greater(a, b),
    "<=": lambda a, b: loose_equal(a, b) or _loose_less(a, b),
}


def _json_string(text: str) -> str:
    """A JSON string literal as Newtonsoft.Json writes it: non-ASCII kept, line separators escaped."""
    encoded = json.dumps(text, ensure_ascii=False)
    return encoded.replace("\u0085", "\\u0085").replace("\u2028", "\\u2028").replace("\u2029", "\\u2029")


def to_json(value: object, level: int = 0) -> str:
    """toJSON(): two-space indented JSON, numbers in the runner's number format."""
    indent = "  " * (level + 1)
    if isinstance(value, list):
        if not value:
            return "[]"
        items = ",\n".join(indent + to_json(item, level + 1) for item in value)
        return f"[\n{items}\n{'  ' * level}]"
    if isinstance(value, Mapping):
        if not value:
            return "{}"
        pairs = ",\n".join(
            f"{indent}{_json_string(to_str(key))}: {to_json(item, level + 1)}" for key, item in value.items()
        )
        return f"{{\n{pairs}\n{'  ' * level}}}"
    if value is None:
        return "null"
    if isinstance(value, str):
        return _json_string(value)
    return to_str(value)


def _from_json_object(pairs: list[tuple[str, object]]) -> CaseInsensitiveDict:
    # Newtonsoft replaces exact duplicate keys; keys differing only by case make the runner fail.
    return CaseInsensitiveDict(list(dict(pairs).items()))


def from_json(text: str) -> object:
    try:
        parsed = json.loads(text, object_pairs_hook=_from_json_object)
    except (json.JSONDecodeError, ValueError) as error:
        raise ExpressionEvaluationError(f"fromJSON could not parse {text!r}: {error}") from error
    return to_context_value(parsed)


# ---------------------------------------------------------------------------------------------------
# Syntax tree


@dataclass
class EvalContext:
    """What expressions can see: the named contexts and, for `if:`, the status of the action so far."""

    contexts: Mapping[str, object]
    failed: bool = False
    hash_files: Callable[[str, bool], str] | None = None


class Node:
    def evaluate(self, ctx: EvalContext) -> object:
        raise NotImplementedError

    def children(self) -> Sequence[Node]:
        return ()


@dataclass(frozen=True)
class Literal(Node):
    value: object

    def evaluate(self, ctx: EvalContext) -> object:
        return self.value


@dataclass(frozen=True)
class NamedValue(Node):
    name: str

    def evaluate(self, ctx: EvalContext) -> object:
        return ctx.contexts.get(self.name.lower())


@dataclass(frozen=True)
class Wildcard(Node):
    """The `*` of `.*` and `[*]`; only meaningful as the key of an Index."""


def _object_get(obj: Mapping[str, object], key: str) -> tuple[bool, object]:
    try:
        return True, obj[key]
    except KeyError:
        return False, None


def _integer_index(key: object) -> int | None:
    number = to_number(key)
    if math.isnan(number) or number < 0 or math.floor(number) > _INT32_MAX:
        return None
    return math.floor(number)


@dataclass(frozen=True)
class Index(Node):
    target: Node
    key: Node

    def children(self) -> Sequence[Node]:
        return (self.target, self.key)

    def evaluate(self, ctx: EvalContext) -> object:
        collection = self.target.evaluate(ctx)
        wildcard = isinstance(self.key, Wildcard)
        if not isinstance(collection, list | Mapping):
            return FilteredArray() if wildcard else None
        key = None if wildcard else self.key.evaluate(ctx)
        string_key = to_str(key) if not wildcard and _is_primitive(key) else None
        if isinstance(collection, FilteredArray):
            return self._filter(collection, wildcard, key, string_key)
        if isinstance(collection, Mapping):
            if wildcard:
                return FilteredArray(collection.values())
            return _object_get(collection, string_key)[1] if string_key is not None else None
        if wildcard:
            return FilteredArray(collection)
        position = _integer_index(key)
        return collection[position] if position is not None and position < len(collection) else None

    @staticmethod
    def _filter(items: FilteredArray, wildcard: bool, key: object, string_key: str | None) -> FilteredArray:
        result = FilteredArray()
        for item in items:
            if isinstance(item, Mapping):
                if wildcard:
                    result.extend(item.values())
                elif string_key is not None:
                    found, value = _object_get(item, string_key)
                    if found:
                        result.append(value)
            elif isinstance(item, list):
                if wildcard:
                    result.extend(item)
                elif (position := _integer_index(key)) is not None and position < len(item):
                    result.append(item[position])
        return result


@dataclass(frozen=True)
class Not(Node):
    operand: Node

    def children(self) -> Sequence[Node]:
        return (self.operand,)

    def evaluate(self, ctx: EvalContext) -> object:
        return not is_truthy(self.operand.evaluate(ctx))


@dataclass(frozen=True)
class And(Node):
    operands: tuple[Node, ...]

    def children(self) -> Sequence[Node]:
        return self.operands

    def evaluate(self, ctx: EvalContext) -> object:
        value: object = None
        for operand in self.operands:
            value = operand.evaluate(ctx)
            if not is_truthy(value):
                return value
        return value


@dataclass(frozen=True)
class Or(Node):
    operands: tuple[Node, ...]

    def children(self) -> Sequence[Node]:
        return self.operands

    def evaluate(self, ctx: EvalContext) -> object:
        value: object = None
        for operand in self.operands:
            value = operand.evaluate(ctx)
            if is_truthy(value):
                return value
        return value


@dataclass(frozen=True)
class Compare(Node):
    operator: str
    left: Node
    right: Node

    def children(self) -> Sequence[Node]:
        return (self.left, self.right)

    def evaluate(self, ctx: EvalContext) -> object:
        return _COMPARISONS[self.operator](self.left.evaluate(ctx), self.right.evaluate(ctx))


@dataclass(frozen=True)
class Call(Node):
    name: str  # lower-case
    args: tuple[Node, ...]

    def children(self) -> Sequence[Node]:
        return self.args

    def evaluate(self, ctx: EvalContext) -> object:
        return _FUNCTIONS[self.name](ctx, self.args)


@dataclass(frozen=True)
class Interpolation(Node):
    """Text with embedded expressions; GitHub rewrites it to format('text {0}', expr)."""

    parts: tuple[str | Node, ...]

    def children(self) -> Sequence[Node]:
        return tuple(part for part in self.parts if isinstance(part, Node))

    def evaluate(self, ctx: EvalContext) -> object:
        return "".join(part if isinstance(part, str) else to_str(part.evaluate(ctx)) for part in self.parts)


# ---------------------------------------------------------------------------------------------------
# Functions


def _contains(ctx: EvalContext, args: Sequence[Node]) -> bool:
    haystack = args[0].evaluate(ctx)
    if _is_primitive(haystack):
        needle = args[1].evaluate(ctx)
        return _is_primitive(needle) and fold_case(to_str(needle)) in fold_case(to_str(haystack))
    if isinstance(haystack, list) and haystack:
        needle = args[1].evaluate(ctx)
        return any(loose_equal(needle, item) for item in haystack)
    return False


def _affix_test(test: Callable[[str, str], bool]) -> Callable[[EvalContext, Sequence[Node]], bool]:
    def evaluate(ctx: EvalContext, args: Sequence[Node]) -> bool:
        text = args[0].evaluate(ctx)
        if not _is_primitive(text):
            return False
        affix = args[1].evaluate(ctx)
        return _is_primitive(affix) and test(fold_case(to_str(text)), fold_case(to_str(affix)))

    return evaluate


_FORMAT_ARGUMENT = re.compile(r"([0-9]+)(:[^}]*)?}")


def _format(ctx: EvalContext, args: Sequence[Node]) -> str:
    template = to_str(args[0].evaluate(ctx))
    cache: dict[int, str] = {}

    def argument(position: int) -> str:
        # Arguments are evaluated lazily and once, only if the format string references them.
        if position not in cache:
            cache[position] = to_str(args[position + 1].evaluate(ctx))
        return cache[position]

    def invalid() -> ExpressionEvaluationError:
        return ExpressionEvaluationError(f"The following format string is invalid: {template}")

    out: list[str] = []
    index = 0
    while index < len(template):
        left = template.find("{", index)
        right = template.find("}", index)
        if left >= 0 and (right < 0 or right > left):
            if template[left + 1 : left + 2] == "{":
                out.append(template[index : left + 1])
                index = left + 2
                continue
            match = _FORMAT_ARGUMENT.match(template, left + 1)
            if not match or int(match.group(1)) > 255:
                raise invalid()
            if match.group(2):
                raise ExpressionEvaluationError(
                    f"The format specifiers '{match.group(2)[1:]}' are not valid in format string: {template}"
                )
            position = int(match.group(1))
            if position > len(args) - 2:
                raise ExpressionEvaluationError(
                    f"The following format string references more arguments than were supplied: {template}"
                )
            out.append(template[index:left])
            out.append(argument(position))
            index = match.end()
        elif right >= 0:
            if template[right + 1 : right + 2] != "}":
                raise invalid()
            out.append(template[index : right + 1])
            index = right + 2
        else:
            out.append(template[index:])
            break
    return "".join(out)


def _join(ctx: EvalContext, args: Sequence[Node]) -> str:
    items = args[0].evaluate(ctx)
    if isinstance(items, list) and items:
        separator = ","
        if len(items) > 1 and len(args) > 1:
            given = args[1].evaluate(ctx)
            if _is_primitive(given):
                separator = to_str(given)
        return separator.join(to_str(item) for item in items)
    if _is_primitive(items):
        return to_str(items)
    return ""


def _hash_files(ctx: EvalContext, args: Sequence[Node]) -> str:
    patterns = [to_str(arg.evaluate(ctx)) for arg in args]
    follow_symlinks = False
    if patterns[0].startswith("--"):
        if patterns[0].lower() != "--follow-symbolic-links":
            raise ExpressionEvaluationError(
                f"Invalid glob option {patterns[0]}, available option: '--follow-symbolic-links'."
            )
        follow_symlinks = True
        patterns = patterns[1:]
    if ctx.hash_files is None:
        raise UnsupportedExpression("hashFiles() needs a workspace, none was given to the evaluator")
    return ctx.hash_files("\n".join(patterns), follow_symlinks)


_FUNCTIONS: dict[str, Callable[[EvalContext, Sequence[Node]], object]] = {
    "contains": _contains,
    "startswith": _affix_test(str.startswith),
    "endswith": _affix_test(str.endswith),
    "format": _format,
    "join": _join,
    "tojson": lambda ctx, args: to_json(args[0].evaluate(ctx)),
    "fromjson": lambda ctx, args: from_json(to_str(args[0].evaluate(ctx))),
    "hashfiles": _hash_files,
    "success": lambda ctx, args: not ctx.failed,
    "failure": lambda ctx, args: ctx.failed,
    "always": lambda ctx, args: True,
    "cancelled": lambda ctx, args: False,  # the bench never cancels a run
}


# ---------------------------------------------------------------------------------------------------
# Lexer and parser


@dataclass(frozen=True)
class _Token:
    kind: str  # one of ( ) [ ] , . * op string number null bool name func prop
    raw: str
    position: int
    value: object = None


_BOUNDARY = frozenset("([)],.!><=&|")
_KEYWORD = re.compile(r"[A-Za-z_][A-Za-z0-9_-]*")
# After these tokens a '.' starts a number (".5"), elsewhere it dereferences.
_OPERAND_EXPECTED = frozenset({None, ",", "(", "[", "op"})


def _is_boundary(char: str) -> bool:
    return char in _BOUNDARY or char.isspace()


class _Lexer:
    def __init__(self, expression: str) -> None:
        self.expression = expression
        self.index = 0
        self.tokens: list[_Token] = []

    def error(self, message: str, raw: str, position: int) -> ExpressionError:
        return ExpressionError(
            f"{message}: '{raw}'. Located at position {position + 1} within expression: {self.expression}"
        )

    def tokenize(self) -> list[_Token]:
        text = self.expression
        while True:
            while self.index < len(text) and text[self.index].isspace():
                self.index += 1
            if self.index >= len(text):
                return self.tokens
            char = text[self.index]
            last = self.tokens[-1].kind if self.tokens else None
            if char in "()[],*":
                self.tokens.append(_Token(char, char, self.index))
                self.index += 1
            elif char == "'":
                self.read_string()
            elif char == "." and last not in _OPERAND_EXPECTED:
                self.tokens.append(_Token(".", char, self.index))
                self.index += 1
            elif char in ".-+0123456789":
                self.read_number()
            elif char in "!<>=&|":
                self.read_operator()
            else:
                self.read_keyword()

    def read_string(self) -> None:
        text, start = self.expression, self.index
        chars: list[str] = []
        self.index += 1
        while self.index < len(text):
            char = text[self.index]
            self.index += 1
            if char == "'":
                if text[self.index : self.index + 1] != "'":
                    self.tokens.append(_Token("string", text[start : self.index], start, "".join(chars)))
                    return
                self.index += 1  # '' is an escaped quote
            chars.append(char)
        raise self.error("Unexpected symbol", text[start:], start)

    def read_number(self) -> None:
        text, start = self.expression, self.index
        self.index += 1
        while self.index < len(text) and (not _is_boundary(text[self.index]) or text[self.index] == "."):
            self.index += 1
        raw = text[start : self.index]
        number = parse_number(raw)
        if math.isnan(number):
            raise self.error("Unexpected symbol", raw, start)
        self.tokens.append(_Token("number", raw, start, number))

    def read_operator(self) -> None:
        text, start = self.expression, self.index
        pair = text[start : start + 2]
        if pair in ("!=", ">=", "<=", "==", "&&", "||"):
            self.index += 2
            self.tokens.append(_Token("op", pair, start))
        elif text[start] in "!<>":
            self.index += 1
            self.tokens.append(_Token("op", text[start], start))
        else:
            raise self.error("Unexpected symbol", text[start], start)

    def read_keyword(self) -> None:
        text, start = self.expression, self.index
        self.index += 1
        while self.index < len(text) and not _is_boundary(text[self.index]):
            self.index += 1
        raw = text[start : self.index]
        if not _KEYWORD.fullmatch(raw):
            raise self.error("Unexpected symbol", raw, start)
        if self.tokens and self.tokens[-1].kind == ".":
            self.tokens.append(_Token("prop", raw, start))
        elif raw == "null":
            self.tokens.append(_Token("null", raw, start, None))
        elif raw in ("true", "false"):
            self.tokens.append(_Token("bool", raw, start, raw == "true"))
        elif raw in ("NaN", "Infinity"):
            self.tokens.append(_Token("number", raw, start, parse_number(raw)))
        elif text[self.index :].lstrip().startswith("("):
            self.tokens.append(_Token("func", raw, start))
        else:
            self.tokens.append(_Token("name", raw, start))


class _Parser:
    """Recursive descent with the runner's precedence: ! > comparison > equality > && > ||."""

    def __init__(self, expression: str, site: Site) -> None:
        self.expression = expression
        self.site = site
        self.lexer = _Lexer(expression)
        self.tokens = self.lexer.tokenize()
        self.index = 0

    def peek(self) -> _Token | None:
        return self.tokens[self.index] if self.index < len(self.tokens) else None

    def take(self) -> _Token:
        token = self.peek()
        if token is None:
            last = self.tokens[-1] if self.tokens else _Token("", "", 0)
            raise self.lexer.error("Unexpected end of expression", last.raw, last.position)
        self.index += 1
        return token

    def expect(self, kind: str) -> _Token:
        token = self.take()
        if token.kind != kind:
            raise self.lexer.error("Unexpected symbol", token.raw, token.position)
        return token

    def at_operator(self, *operators: str) -> bool:
        token = self.peek()
        return token is not None and token.kind == "op" and token.raw in operators

    def parse(self) -> Node:
        if not self.tokens:
            raise ExpressionError(f"An expression was expected: {self.expression!r}")
        node = self.parse_or()
        if (token := self.peek()) is not None:
            raise self.lexer.error("Unexpected symbol", token.raw, token.position)
        return node

    def parse_or(self) -> Node:
        operands = [self.parse_and()]
        while self.at_operator("||"):
            self.take()
            operands.append(self.parse_and())
        return operands[0] if len(operands) == 1 else Or(tuple(operands))

    def parse_and(self) -> Node:
        operands = [self.parse_equality()]
        while self.at_operator("&&"):
            self.take()
            operands.append(self.parse_equality())
        return operands[0] if len(operands) == 1 else And(tuple(operands))

    def parse_equality(self) -> Node:
        node = self.parse_comparison()
        while self.at_operator("==", "!="):
            operator = self.take().raw
            node = Compare(operator, node, self.parse_comparison())
        return node

    def parse_comparison(self) -> Node:
        node = self.parse_unary()
        while self.at_operator("<", "<=", ">", ">="):
            operator = self.take().raw
            node = Compare(operator, node, self.parse_unary())
        return node

    def parse_unary(self) -> Node:
        if self.at_operator("!"):
            self.take()
            return Not(self.parse_unary())
        return self.parse_postfix()

    def parse_postfix(self) -> Node:
        start = self.peek()
        node = self.parse_primary()
        is_literal = start is not None and start.kind in ("string", "number", "null", "bool")
        while (token := self.peek()) is not None and token.kind in (".", "["):
            if is_literal:
                raise self.lexer.error("Unexpected symbol", token.raw, token.position)
            self.take()
            if token.kind == ".":
                key = self.take()
                if key.kind == "*":
                    node = Index(node, Wildcard())
                elif key.kind == "prop":
                    node = Index(node, Literal(key.raw))
                else:
                    raise self.lexer.error("Unexpected symbol", key.raw, key.position)
            else:
                if (inner := self.peek()) is not None and inner.kind == "*":
                    self.take()
                    node = Index(node, Wildcard())
                else:
                    node = Index(node, self.parse_or())
                self.expect("]")
        return node

    def parse_primary(self) -> Node:
        token = self.take()
        if token.kind in ("string", "number", "null", "bool"):
            return Literal(token.value)
        if token.kind == "(":
            node = self.parse_or()
            self.expect(")")
            return node
        if token.kind == "func":
            return self.parse_call(token)
        if token.kind == "name":
            return self.named_value(token)
        raise self.lexer.error("Unexpected symbol", token.raw, token.position)

    def parse_call(self, token: _Token) -> Node:
        name = token.raw.lower()
        if name not in _FUNCTION_ARITY or not (name in _ALWAYS_AVAILABLE_FUNCTIONS or name in self.site.functions):
            raise self.lexer.error("Unrecognized function", token.raw, token.position)
        self.expect("(")
        args: list[Node] = []
        if (closing := self.peek()) is not None and closing.kind == ")":
            self.take()
        else:
            args.append(self.parse_or())
            while (separator := self.take()).kind == ",":
                args.append(self.parse_or())
            if separator.kind != ")":
                raise self.lexer.error("Unexpected symbol", separator.raw, separator.position)
        minimum, maximum = _FUNCTION_ARITY[name]
        if len(args) < minimum:
            raise self.lexer.error("Too few parameters supplied", token.raw, token.position)
        if len(args) > maximum:
            raise self.lexer.error("Too many parameters supplied", token.raw, token.position)
        return Call(name, tuple(args))

    def named_value(self, token: _Token) -> Node:
        name = token.raw.lower()
        if name in UNMODELLED_CONTEXTS:
            raise UnsupportedExpression(
                f"The `{token.raw}` context is not modelled by the test bench (expression: {self.expression})"
            )
        if name not in self.site.contexts:
            raise self.lexer.error("Unrecognized named-value", token.raw, token.position)
        return NamedValue(name)


def _depth(node: Node) -> int:
    return 1 + max((_depth(child) for child in node.children()), default=0)


def parse_expression(expression: str, site: Site) -> Node:
    """Parses the text between `${{` and `}}` (or a bare `if:` condition)."""
    if len(expression) > MAX_EXPRESSION_LENGTH:
        raise ExpressionError(f"Exceeded max expression length {MAX_EXPRESSION_LENGTH}: {expression[:80]}...")
    node = _Parser(expression, site).parse()
    if _depth(node) > MAX_EXPRESSION_DEPTH:
        raise ExpressionError(f"Exceeded max expression depth {MAX_EXPRESSION_DEPTH}: {expression}")
    return node


# ---------------------------------------------------------------------------------------------------
# Templates: YAML strings that may embed ${{ }}


@dataclass(frozen=True)
class Template:
    """A string field of action.yml: plain text, one expression (keeps its type), or interpolated text."""

    raw: str
    node: Node | None = None

    @property
    def is_literal(self) -> bool:
        return self.node is None

    def evaluate(self, ctx: EvalContext) -> object:
        return self.raw if self.node is None else self.node.evaluate(ctx)

    def render(self, ctx: EvalContext) -> str:
        return to_str(self.evaluate(ctx))


def _split_template(raw: str, site: Site) -> list[str | Node]:
    """Cuts text into literal parts and parsed expressions; `}}` inside a quoted string does not close."""
    parts: list[str | Node] = []
    index = 0
    while (start := raw.find("${{", index)) >= 0:
        if start > index:
            parts.append(raw[index:start])
        end = -1
        in_string = False
        for position in range(start + 3, len(raw)):
            if raw[position] == "'":
                in_string = not in_string
            elif not in_string and raw[position] == "}" and raw[position - 1] == "}":
                end = position
                break
        if end < 0:
            raise ExpressionError(f"The expression is not closed. An unescaped ${{{{ was found: {raw}")
        inner = raw[start + 3 : end - 1]
        if not inner.strip():
            raise ExpressionError(f"An expression was expected: {raw}")
        parts.append(parse_expression(inner, site))
        index = end + 1
    if index < len(raw):
        parts.append(raw[index:])
    return parts


def parse_template(raw: str, site: Site) -> Template:
    parts = _split_template(raw, site)
    if all(isinstance(part, str) for part in parts):
        return Template(raw)
    if len(parts) == 1:
        return Template(raw, parts[0])  # type: ignore[arg-type]
    return Template(raw, Interpolation(tuple(parts)))


def _uses_status_function(node: Node) -> bool:
    if isinstance(node, Call) and node.name in STATUS_FUNCTIONS:
        return True
    return any(_uses_status_function(child) for child in node.children())


def parse_condition(raw: str) -> Node:
    """An `if:`: `${{ }}` optional; without a status function it means `success() && (...)`."""
    if not raw.strip():
        return Call("success", ())
    template = parse_template(raw, IF_SITE)
    node = template.node if template.node is not None else parse_expression(raw, IF_SITE)
    if _uses_status_function(node):
        return node
    return And((Call("success", ()), node))
