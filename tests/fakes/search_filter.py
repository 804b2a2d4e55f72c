"""The OData ``$filter`` subset the fake Azure AI Search understands, parsed as the service does.

Comparisons (``eq ne gt ge lt le``) of a field with a literal (``'text'`` with ``''`` for a
quote, numbers, ``true``/``false``/``null``), ``and``/``or``/``not``, parentheses,
``search.in(field, 'a,b')`` (optional third argument: the delimiters), and lambdas over string
collections: ``oids/any(o: o eq 'x')``, ``groups/any(g: search.in(g, 'a,b'))``, ``/all(...)``.
A field that does not exist or is not filterable is an error, as on the service (HTTP 400).

>>> fields = {"ordinal": {"type": "Edm.Int32"}, "groups": {"type": "Collection(Edm.String)"}}
>>> predicate = parse_filter("ordinal le 0 and groups/any(g: g eq 'hr')", fields)
>>> predicate({"ordinal": 0, "groups": ["hr"]})
True
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from typing import Any

Predicate = Callable[[Mapping[str, Any]], bool]

_TOKEN = re.compile(
    r"\s*(?:(?P<str>'(?:[^']|'')*')|(?P<num>-?\d+(?:\.\d+)?)|(?P<punct>[(),:])"
    r"|(?P<word>[A-Za-z_@][\w.]*(?:/[A-Za-z_]\w*)?))"
)
_COMPARISONS = {
    "eq": lambda a, b: a == b, "ne": lambda a, b: a != b,
    "gt": lambda a, b: a is not None and b is not None and a > b,
    "ge": lambda a, b: a is not None and b is not None and a >= b,
    "lt": lambda a, b: a is not None and b is not None and a < b,
    "le": lambda a, b: a is not None and b is not None and a <= b,
}


class FilterError(ValueError):
    """An invalid filter: the service answers 400 with this message."""


def _tokens(text: str) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    position = 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterError(f"Invalid expression: syntax error at position {position} "
                              f"in '{text}'.")
        kind = match.lastgroup or ""
        out.append((kind, match.group(kind)))
        position = match.end()
    return out


class _Parser:
    def __init__(self, text: str, fields: Mapping[str, Mapping[str, Any]]) -> None:
        self.text = text
        self.tokens = _tokens(text)
        self.at = 0
        self.fields = fields
        self.lambda_var: str | None = None

    def peek(self) -> tuple[str, str] | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, value: str | None = None) -> tuple[str, str]:
        token = self.peek()
        if token is None or (value is not None and token[1] != value):
            raise FilterError(f"Invalid expression: expected {value or 'more'} in '{self.text}'.")
        self.at += 1
        return token

    def parse(self) -> Predicate:
        predicate = self.or_expr()
        if self.peek() is not None:
            raise FilterError(f"Invalid expression: unexpected '{self.tokens[self.at][1]}' "
                              f"in '{self.text}'.")
        return predicate

    def or_expr(self) -> Predicate:
        left = self.and_expr()
        while self.peek() == ("word", "or"):
            self.take()
            right = self.and_expr()
            left = (lambda a, b: lambda d: a(d) or b(d))(left, right)
        return left

    def and_expr(self) -> Predicate:
        left = self.unary()
        while self.peek() == ("word", "and"):
            self.take()
            right = self.unary()
            left = (lambda a, b: lambda d: a(d) and b(d))(left, right)
        return left

    def unary(self) -> Predicate:
        if self.peek() == ("word", "not"):
            self.take()
            inner = self.unary()
            return lambda d: not inner(d)
        if self.peek() == ("punct", "("):
            self.take("(")
            inner = self.or_expr()
            self.take(")")
            return inner
        return self.atom()

    def literal(self) -> Any:
        kind, value = self.take()
        if kind == "str":
            return value[1:-1].replace("''", "'")
        if kind == "num":
            return float(value) if "." in value else int(value)
        if value in ("true", "false"):
            return value == "true"
        if value == "null":
            return None
        raise FilterError(f"Invalid expression: expected a literal, found '{value}'.")

    def field(self, name: str, *, collection: bool | None = None) -> Mapping[str, Any]:
        field = self.fields.get(name)
        if field is None:
            raise FilterError(f"Invalid expression: Could not find a property named '{name}'.")
        if not field.get("filterable", True):
            raise FilterError(f"Invalid expression: The field '{name}' is not filterable.")
        is_collection = str(field.get("type", "")).startswith("Collection(")
        if collection is not None and collection != is_collection:
            raise FilterError(f"Invalid expression: '{name}' "
                              f"{'is not' if collection else 'is'} a collection here.")
        return field

    def search_in(self, var: str | None) -> tuple[str, Callable[[Any], bool]]:
        self.take("(")
        _kind, name = self.take()
        if var is None:
            self.field(name, collection=False)
        elif name != var:
            raise FilterError(f"Invalid expression: '{name}' is not the lambda variable.")
        self.take(",")
        values = self.literal()
        delimiters = " ,"
        if self.peek() == ("punct", ","):
            self.take(",")
            delimiters = str(self.literal())
        self.take(")")
        allowed = {v for v in re.split("[" + re.escape(delimiters) + "]", str(values)) if v}
        return name, lambda value: value in allowed

    def atom(self) -> Predicate:
        kind, word = self.take()
        if kind != "word":
            raise FilterError(f"Invalid expression: unexpected '{word}' in '{self.text}'.")
        if word == "search.in":
            name, test = self.search_in(None)
            return lambda d: test(d.get(name))
        if "/" in word:
            name, quantifier = word.split("/", 1)
            if quantifier not in ("any", "all"):
                raise FilterError(f"Invalid expression: unknown operator '{quantifier}'.")
            self.field(name, collection=True)
            self.take("(")
            _k, var = self.take()
            self.take(":")
            if self.peek() == ("word", "search.in"):
                self.take()
                _var, element = self.search_in(var)
            else:
                _k, left = self.take()
                if left != var:
                    raise FilterError(f"Invalid expression: '{left}' is not the lambda variable.")
                _k, op = self.take()
                if op not in _COMPARISONS:
                    raise FilterError(f"Invalid expression: unknown operator '{op}'.")
                right = self.literal()
                compare = _COMPARISONS[op]
                element = (lambda c, r: lambda v: bool(c(v, r)))(compare, right)
            self.take(")")
            quant = any if quantifier == "any" else all
            return lambda d: quant(element(v) for v in (d.get(name) or []))
        self.field(word, collection=False)
        _k, op = self.take()
        if op not in _COMPARISONS:
            raise FilterError(f"Invalid expression: unknown operator '{op}'.")
        right = self.literal()
        compare = _COMPARISONS[op]
        return lambda d: bool(compare(d.get(word), right))


def parse_filter(text: str, fields: Mapping[str, Mapping[str, Any]]) -> Predicate:
    """A predicate over stored documents; raises ``FilterError`` for what the service rejects."""
    return _Parser(text, fields).parse()
