"""One error hierarchy for the whole platform.

Each class also subclasses the builtin a caller would naturally catch (as pint does; our base comes
first in the MRO so that its keyword-taking __init__ wins), and carries the
field and the reason so that the API, the CLI and the import report can say *which field, and why*
without parsing messages. The API maps this hierarchy to HTTP statuses in one place
(``jiliang.api.errors``); nothing below the API knows about HTTP.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


class JiliangError(Exception):
    """Base of every error the platform raises on purpose."""

    code = "error"

    def __init__(self, message: str, *, field: str | None = None, **context: Any) -> None:
        super().__init__(message)
        self.message = message
        self.field = field
        self.context = context

    def as_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"code": self.code, "message": self.message}
        if self.field is not None:
            out["field"] = self.field
        if self.context:
            out["context"] = {k: v for k, v in self.context.items() if _jsonable(v)}
        return out


def _jsonable(value: Any) -> bool:
    return isinstance(value, str | int | float | bool | list | dict | type(None))


class InvalidInput(JiliangError, ValueError):
    """The input breaks a rule; the message names the field and the reason."""

    code = "invalid"


class Conflict(InvalidInput):
    """The input is valid on its own but clashes with what is stored (a duplicate, a stale version)."""

    code = "conflict"


class ProofError(InvalidInput):
    """A Merkle proof, tree head or signed note does not verify; the message says exactly why."""

    code = "proof_invalid"


class PayloadTooLarge(InvalidInput):
    code = "too_large"


class NotFound(JiliangError, LookupError):
    """Absent, or outside the caller's jurisdiction: the two are deliberately indistinguishable."""

    code = "not_found"


class NotAuthorised(JiliangError, PermissionError):
    """The caller is known and may see the object, but may not do this to it."""

    code = "forbidden"


class AuthenticationFailed(JiliangError, PermissionError):
    code = "unauthenticated"


@dataclass(frozen=True)
class FieldProblem:
    """One refused field of one row of an import: what the validation report lists."""

    row: int
    field: str
    reason: str
    value: str | None = None


@dataclass
class ImportRefused(InvalidInput):
    """A whole file refused: nothing was written. ``problems`` holds up to a bounded number of rows."""

    problems: list[FieldProblem] = field(default_factory=list)
    problem_count: int = 0
    rows_read: int = 0

    def __post_init__(self) -> None:
        InvalidInput.__init__(
            self,
            f"导入被拒绝：{self.problem_count} 处错误，未写入任何数据 / import refused: "
            f"{self.problem_count} problem(s) in {self.rows_read} row(s), nothing was written",
            field="file",
        )

    def __str__(self) -> str:
        return self.message

    def __hash__(self) -> int:
        return id(self)


class InvalidDistribution(InvalidInput):
    """A probability distribution for an input quantity is refused: unknown kind, missing or bad key."""

    code = "invalid"


class TooManyAttempts(AuthenticationFailed):
    """Sign-in refused by the throttle (backoff or temporary lockout) before any password is checked."""

    code = "too_many_attempts"

    def __init__(self, message: str, *, retry_after_s: int, field: str | None = "username") -> None:
        super().__init__(message, field=field, retry_after_s=retry_after_s)
        self.retry_after_s = retry_after_s
