"""Password hashing (Argon2id) on a bounded pool of its own threads.

Argon2 is memory-hard on purpose: 64 MiB and three passes per check. Computed on the request threads, 16
clients sending wrong passwords took every thread and pushed other users' lookups from 6 ms to over a
second (issue 16). Every hash and check therefore runs on a small executor (``settings.argon2_threads``,
default 1): a flood queues there while the request threads serve everyone else. Async callers await the
check without holding a request thread at all (``verify_async``).
"""

from __future__ import annotations

import asyncio
import threading
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from jiliang.services.platform import Platform

_LOCK = threading.Lock()
_HASHERS: dict[tuple[int, int], tuple[PasswordHasher, str]] = {}
_POOLS: dict[int, ThreadPoolExecutor] = {}


def hasher_and_dummy(platform: Platform) -> tuple[PasswordHasher, str]:
    """Argon2id with the configured cost, and a dummy hash so unknown users cost as much as known ones."""
    key = (platform.settings.argon2_memory_kib, platform.settings.argon2_time_cost)
    with _LOCK:
        if key not in _HASHERS:
            hasher = PasswordHasher(memory_cost=key[0], time_cost=key[1])
            _HASHERS[key] = (hasher, hasher.hash("timing-equaliser"))
        return _HASHERS[key]


def pool(platform: Platform) -> ThreadPoolExecutor:
    """The process's hashing threads (one executor per configured size, created on first use)."""
    size = platform.settings.argon2_threads
    with _LOCK:
        if size not in _POOLS:
            _POOLS[size] = ThreadPoolExecutor(max_workers=size, thread_name_prefix="argon2")
        return _POOLS[size]


def _check(hasher: PasswordHasher, stored: str, password: str) -> bool:
    try:
        return hasher.verify(stored, password)
    except (VerificationError, InvalidHashError):
        return False


def hash_password(platform: Platform, password: str) -> str:
    hasher, _ = hasher_and_dummy(platform)
    return pool(platform).submit(hasher.hash, password).result()


def verify(platform: Platform, stored: str | None, password: str) -> bool:
    """Whether ``password`` matches ``stored``; None (no such user) is checked against the dummy hash."""
    hasher, dummy = hasher_and_dummy(platform)
    ok = pool(platform).submit(_check, hasher, stored or dummy, password).result()
    return ok and stored is not None


async def verify_async(platform: Platform, stored: str | None, password: str) -> bool:
    """``verify`` for async routes: waiting for a hashing thread holds no request thread."""
    hasher, dummy = hasher_and_dummy(platform)
    ok = await asyncio.wrap_future(pool(platform).submit(_check, hasher, stored or dummy, password))
    return ok and stored is not None


def needs_rehash(platform: Platform, stored: str) -> bool:
    return hasher_and_dummy(platform)[0].check_needs_rehash(stored)
