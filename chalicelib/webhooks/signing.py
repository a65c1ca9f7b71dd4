"""Endpoint secrets and Standard Webhooks signatures.

A secret is ``whsec_`` + base64 of 24 random bytes, shown to the tenant once (on creation and
on rotation). It has to be used again to sign, so it is stored sealed (AES-256-GCM) under a key
derived from the platform keyring and named by the key id, never in clear. Signing uses the
``standardwebhooks`` library; during a rotation every unexpired secret signs, so the
``webhook-signature`` header carries both signatures for 24 hours.
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
from datetime import datetime
from typing import Any

SECRET_PREFIX = "whsec_"


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


class SecretBox:
    """Seals endpoint secrets with AES-GCM; the sealed text names the key it was sealed with."""

    def __init__(self, keys: dict[str, str], active_kid: str) -> None:
        self._keys, self._active = keys, active_kid

    def _key(self, kid: str) -> bytes:
        return hmac.new(self._keys[kid].encode(), b"linli-webhook-secrets", hashlib.sha256).digest()

    def seal(self, secret: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        nonce = os.urandom(12)
        sealed = AESGCM(self._key(self._active)).encrypt(nonce, secret.encode(), self._active.encode())
        return f"{self._active}.{base64.urlsafe_b64encode(nonce + sealed).decode()}"

    def open(self, sealed: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid, _, blob = sealed.partition(".")
        raw = base64.urlsafe_b64decode(blob)
        return AESGCM(self._key(kid)).decrypt(raw[:12], raw[12:], kid.encode()).decode()


def sign_headers(webhook_id: str, timestamp: datetime, body: str, secrets: list[str]) -> dict[str, str]:
    """The three Standard Webhooks headers for one attempt (one signature per active secret).

    Example
    -------
    >>> from datetime import timezone
    >>> headers = sign_headers("evt_1", datetime(2026, 11, 27, tzinfo=timezone.utc), "{}",
    ...                        ["whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_c2VjcmV0LXR3by1zZWNyZXQtdHdv"])
    >>> headers["webhook-timestamp"], len(headers["webhook-signature"].split(" "))
    ('1795737600', 2)
    """
    from standardwebhooks import Webhook

    signatures = [Webhook(secret).sign(webhook_id, timestamp, body) for secret in secrets]
    return {"webhook-id": webhook_id, "webhook-timestamp": str(int(timestamp.timestamp())),
            "webhook-signature": " ".join(signatures)}


def active_secrets(entries: list[dict[str, Any]], now_text: str) -> list[dict[str, Any]]:
    """The secrets that still sign: the current one and any rotated out less than 24 h ago (newest first).

    Example
    -------
    >>> active_secrets([{"sealed": "a", "expires_at": "2026-11-27T00:00:00.000Z"}, {"sealed": "b"}],
    ...                "2026-11-27T10:00:00.000Z")
    [{'sealed': 'b'}]
    """
    live = [e for e in entries if not e.get("expires_at") or e["expires_at"] > now_text]
    return sorted(live, key=lambda e: e.get("created_at", ""), reverse=True)
