"""Opaque, prefixed, unguessable, time-ordered identifiers."""
from __future__ import annotations

import secrets
import time

_ALPHABET = "0123456789abcdefghjkmnpqrstvwxyz"  # Crockford base32, lower case


def _base32(value: int, length: int) -> str:
    chars = []
    for _ in range(length):
        chars.append(_ALPHABET[value & 31])
        value >>= 5
    return "".join(reversed(chars))


def sortable_token(now_ms: int | None = None) -> str:
    """26 characters: 48 bits of milliseconds then 80 random bits (ULID layout)."""
    millis = int(time.time() * 1000) if now_ms is None else now_ms
    return _base32(millis, 10) + _base32(secrets.randbits(80), 16)


def new_id(prefix: str) -> str:
    """A new identifier such as ``tnt_01hx…``.

    Example
    -------
    >>> new_id("tkt").startswith("tkt_")
    True
    """
    return f"{prefix}_{sortable_token()}"
