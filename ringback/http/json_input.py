"""Parsing of JSON request bodies: the one gate every JSON endpoint's input passes.

Python's `json` accepts things that break later, far from the request: lone surrogates (`"\\ud800"`) cannot
be encoded to UTF-8 by the database driver or the log, PostgreSQL refuses NUL characters in text, ~1,000
levels of nesting exhaust the recursion limit, and integers beyond 2^53 or floats that overflow to infinity
are not numbers any field means. They are refused here, for every endpoint and every field (object keys
included), so an accepted body can be stored and processed on either database.
"""

from __future__ import annotations

import json
import math
from typing import Any, NoReturn

from ringback.engine.fields import text_problem
from ringback.http.errors import ApiError, bad_request, validation_error

MAX_DEPTH = 32  # no body we accept nests deeper than 4; generous, and far below the recursion limit
MAX_INTEGER = 2**53 - 1  # I-JSON (RFC 7493): larger integers do not survive every JSON parser


def _reject_constant(name: str) -> NoReturn:
    raise ValueError(f"{name} is not valid JSON")  # falcon turns a ValueError into MediaMalformedError (400)


def loads(text: str) -> Any:
    """`json.loads` plus the checks above; raises ValueError (malformed JSON) or ApiError (400/422)."""
    try:
        value = json.loads(text, parse_constant=_reject_constant)
    except RecursionError:
        raise _too_deep() from None
    _check(value)
    return value


def _too_deep() -> ApiError:
    return bad_request(f"JSON nested deeper than {MAX_DEPTH} levels", {"max_depth": MAX_DEPTH})


def _printable(key: str) -> str:
    """A key as it may appear in an error message: bad characters escaped (`\\ud800`, `\\x00`)."""
    return key.encode("utf-8", "backslashreplace").decode() if text_problem(key) else key


def _check(root: Any) -> None:
    """Walk the parsed body iteratively (a recursive walk would fail where the parser did not)."""
    stack: list[tuple[Any, str, int]] = [(root, "body", 0)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth >= MAX_DEPTH:
                raise _too_deep()
            for key, item in value.items():
                child = _printable(key) if path == "body" else f"{path}.{_printable(key)}"
                if problem := text_problem(key):
                    raise validation_error(child, f"the field name {child!r} {problem}")
                stack.append((item, child, depth + 1))
        elif isinstance(value, list):
            if depth >= MAX_DEPTH:
                raise _too_deep()
            stack.extend((item, f"{path}[{index}]", depth + 1) for index, item in enumerate(value))
        elif isinstance(value, str):
            if problem := text_problem(value):
                raise validation_error(path, f"{path} {problem}")
        elif isinstance(value, bool) or value is None:
            continue
        elif isinstance(value, int) and abs(value) > MAX_INTEGER:
            raise validation_error(path, f"{path} is out of range (at most {MAX_INTEGER} in magnitude)")
        elif isinstance(value, float) and not math.isfinite(value):
            raise validation_error(path, f"{path} is out of range")


