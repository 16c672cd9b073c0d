"""Sign-in throttling: when the next try may be made, and when failures lock a name or an address.

Pure rules over a small state (failures in the current window, the last failure, a lock), after the
OWASP Authentication Cheat Sheet ("Account Lockout", "Login Throttling"): exponential backoff after a few
failures, a temporary lockout after more, counted per account name and per client address. A try refused
by the throttle counts as a failure too (it is a guess the server did not check), so a flood reaches the
lockout instead of being refused for ever at the backoff. Unknown account names are throttled exactly
like known ones, so the answers reveal nothing about which names exist.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta


@dataclass(frozen=True, slots=True)
class ThrottlePolicy:
    backoff_after: int = 3  # failures before the backoff starts
    backoff_max_s: int = 60
    lockout_failures: int = 10  # failures within the window that lock
    window: timedelta = timedelta(minutes=15)
    lockout: timedelta = timedelta(minutes=15)


@dataclass(frozen=True, slots=True)
class ThrottleState:
    failures: int
    first_failure_at: datetime
    last_failure_at: datetime
    locked_until: datetime | None = None


@dataclass(frozen=True, slots=True)
class Refusal:
    """Why a try is refused before its password is checked, and until when."""

    until: datetime
    locked: bool  # True: the temporary lockout; False: the backoff between tries


def current(state: ThrottleState | None, policy: ThrottlePolicy, now: datetime) -> ThrottleState | None:
    """The state still in force at ``now``: an ended lock or an elapsed window starts afresh."""
    if state is None:
        return None
    if state.locked_until is not None:
        return state if now < state.locked_until else None
    if now - state.first_failure_at >= policy.window:
        return None
    return state


def backoff(failures: int, policy: ThrottlePolicy) -> timedelta:
    """The wait after ``failures`` failures: none before ``backoff_after``, then 1 s, 2 s, 4 s … capped."""
    if failures < policy.backoff_after:
        return timedelta(0)
    return timedelta(seconds=min(2 ** (failures - policy.backoff_after), policy.backoff_max_s))


def refusal(state: ThrottleState | None, policy: ThrottlePolicy, now: datetime) -> Refusal | None:
    """Whether a try at ``now`` is refused without checking its password."""
    live = current(state, policy, now)
    if live is None:
        return None
    if live.locked_until is not None:
        return Refusal(live.locked_until, locked=True)
    ready = live.last_failure_at + backoff(live.failures, policy)
    return Refusal(ready, locked=False) if now < ready else None


def after_failure(state: ThrottleState | None, policy: ThrottlePolicy, now: datetime) -> ThrottleState:
    """The state after one more failure; at the policy's ``lockout_failures`` it locks."""
    live = current(state, policy, now)
    if live is not None and live.locked_until is not None:
        return replace(live, failures=live.failures + 1, last_failure_at=now)
    failures = 1 if live is None else live.failures + 1
    first = now if live is None else live.first_failure_at
    locked = now + policy.lockout if failures >= policy.lockout_failures else None
    return ThrottleState(failures, first, now, locked)
