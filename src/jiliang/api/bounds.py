"""Integers the database can store (issue 16): a path, query or body integer beyond 64 bits answered 500
(``OverflowError`` from the driver) on 22 routes. Every integer parameter of every route is checked here,
once, by an app-wide dependency, and every integer field of a request model by ``schemas.common.In``:
a value outside the signed 64-bit range is a 422 that names the field."""

from __future__ import annotations

import types
from typing import Any, Union, get_args, get_origin

from fastapi import Request
from fastapi.exceptions import RequestValidationError

INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
MESSAGE = "超出 64 位整数范围 / must fit in a signed 64-bit integer"


def is_int(annotation: Any) -> bool:
    if annotation is int:
        return True
    if get_origin(annotation) in (Union, types.UnionType):
        return int in get_args(annotation)
    return False


def fits(value: object) -> bool:
    return not isinstance(value, int) or isinstance(value, bool) or INT64_MIN <= value <= INT64_MAX


def bounded_ints(request: Request) -> None:
    """Refuse a path or query integer that no database column can hold, naming it."""
    route = request.scope.get("route")
    dependant = getattr(route, "dependant", None)
    if dependant is None:
        return
    errors = []
    for where, f in _params(dependant):
        values: Any = request.path_params if where == "path" else request.query_params
        raw = values.get(f.alias)
        if raw is None or not is_int(f.field_info.annotation):
            continue
        try:
            number = int(raw)
        except (TypeError, ValueError):
            continue  # not an integer at all: the route's own validation says so
        if not fits(number):
            errors.append({"type": "int_range", "loc": (where, f.alias), "msg": MESSAGE, "input": raw})
    if errors:
        raise RequestValidationError(errors)


def _params(dependant: Any) -> list[tuple[str, Any]]:
    """The path and query parameters of a route and of all its dependencies."""
    found = [("path", f) for f in dependant.path_params] + [("query", f) for f in dependant.query_params]
    for sub in dependant.dependencies:
        found += _params(sub)
    return found
