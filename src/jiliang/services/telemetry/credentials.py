"""Per-device secrets, hashed in Mosquitto's own format so one hash serves the broker and the HTTP API.

``$7$<iterations>$<base64 salt>$<base64 PBKDF2-HMAC-SHA512>`` is what ``mosquitto_passwd`` writes for
Mosquitto 2.x (``PW_SHA512_PBKDF2``, 12-byte salt, 64-byte key); the broker reads the iteration count
from the line, so a higher count than its default of 101 is understood. The plain secret exists once: in
the answer to the registration.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import secrets

ITERATIONS = 10_000


def new_secret() -> str:
    """32 URL-safe characters, the first a letter or digit (a leading ``-`` or ``=`` would make the
    installer's credentials sheet a formula in a spreadsheet)."""
    while True:
        secret = secrets.token_urlsafe(24)
        if secret[0].isalnum():
            return secret


def hash_secret(secret: str, *, salt: bytes | None = None, iterations: int = ITERATIONS) -> str:
    salt = salt if salt is not None else secrets.token_bytes(12)
    key = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, iterations, 64)
    return f"$7${iterations}${base64.b64encode(salt).decode()}${base64.b64encode(key).decode()}"


def verify_secret(secret: str, stored: str) -> bool:
    try:
        _, kind, iterations, salt_b64, key_b64 = stored.split("$")
        if kind != "7":
            return False
        salt = base64.b64decode(salt_b64)
        expected = base64.b64decode(key_b64)
        key = hashlib.pbkdf2_hmac("sha512", secret.encode(), salt, int(iterations), len(expected))
    except (ValueError, TypeError):
        return False
    return hmac.compare_digest(key, expected)
