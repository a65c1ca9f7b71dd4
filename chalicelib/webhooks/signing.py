"""Endpoint secrets and Standard Webhooks signatures.

A secret is ``whsec_`` + base64 of 24 random bytes, shown to the tenant once (on creation and
on rotation). It has to be used again to sign, so it is stored sealed, never in clear: envelope
encryption under a dedicated KMS key (``LINLI_SECRETS_KMS_KEY``; moto's KMS locally), one data key
per secret, independent of the JWT keyring, so JWT keys rotate and go without touching a webhook.
Signing uses the ``standardwebhooks`` library; after a rotation the current secret and at most one
previous one sign (the previous for 24 hours, or not at all when the tenant expires it at once).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import os
import threading
import time
from collections.abc import Callable, Mapping
from datetime import datetime
from typing import Any, Protocol

SECRET_PREFIX = "whsec_"
ENVELOPE = "kms"  # sealed text: "kms.<encrypted data key>.<nonce + ciphertext>" (urlsafe base64 parts)
CONTEXT = {"purpose": "linli-webhook-secret"}  # the KMS encryption context, also the AES-GCM associated data
MAX_SIGNING_SECRETS = 2  # the current secret and one previous


def new_secret() -> str:
    return SECRET_PREFIX + base64.b64encode(os.urandom(24)).decode()


class Kms(Protocol):
    """The two KMS calls the box makes (a boto3 KMS client, created once per container by bootstrap)."""

    def generate_data_key(self, **kwargs: Any) -> Mapping[str, Any]: ...

    def decrypt(self, **kwargs: Any) -> Mapping[str, Any]: ...


def _b64(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode()


class SecretBox:
    """Seals endpoint secrets with a KMS data key each (AES-256-GCM); opens them again for signing.

    ``seal`` asks KMS for a fresh data key (``GenerateDataKey``), encrypts the secret with its
    plaintext and stores the *encrypted* data key beside the ciphertext; ``open`` has KMS decrypt
    the data key (``Decrypt``) and caches the plaintext key in this container for ``cache_seconds``
    so the delivery hot path makes one KMS call per secret per few minutes, not one per attempt.

    Secrets sealed before envelope encryption (``<jwt kid>.<blob>``, under a key derived from the JWT
    keyring) are still read, through ``legacy_keys``, while their JWT key exists; the service re-seals
    them with KMS on the endpoint's next write or rotation (``is_legacy`` tells which ones).
    """

    def __init__(self, kms: Kms, key_id: str, *, legacy_keys: Callable[[], Mapping[str, str]] = dict,
                 cache_seconds: float = 300.0, cache_size: int = 1024,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.kms, self.key_id, self.legacy_keys = kms, key_id, legacy_keys
        self.cache_seconds, self.cache_size, self.clock = cache_seconds, cache_size, clock
        self._keys: dict[bytes, tuple[float, bytes]] = {}
        self._lock = threading.Lock()

    @staticmethod
    def is_legacy(sealed: str) -> bool:
        return not sealed.startswith(ENVELOPE + ".")

    def seal(self, secret: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        answer = self.kms.generate_data_key(KeyId=self.key_id, KeySpec="AES_256", EncryptionContext=CONTEXT)
        nonce = os.urandom(12)
        sealed = AESGCM(answer["Plaintext"]).encrypt(nonce, secret.encode(), CONTEXT["purpose"].encode())
        return f"{ENVELOPE}.{_b64(answer['CiphertextBlob'])}.{_b64(nonce + sealed)}"

    def open(self, sealed: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        if self.is_legacy(sealed):
            return self._open_legacy(sealed)
        _, wrapped, blob = sealed.split(".")
        raw = base64.urlsafe_b64decode(blob)
        key = self._data_key(base64.urlsafe_b64decode(wrapped))
        return AESGCM(key).decrypt(raw[:12], raw[12:], CONTEXT["purpose"].encode()).decode()

    def open_signing(self, sealed: list[str]) -> list[str]:
        """The secrets that can sign: a previous secret sealed under a JWT key that is gone no longer does, the
        current one still signs; only when none opens does the attempt fail (and retry)."""
        opened, errors = [], []
        for text in sealed:
            try:
                opened.append(self.open(text))
            except (KeyError, ValueError) as exc:
                errors.append(exc)
        if errors and not opened:
            raise errors[0]
        return opened

    def reseal(self, sealed: str) -> str:
        """KMS-sealed text for ``sealed``: unchanged if it already is, else opened (legacy) and sealed again."""
        return self.seal(self.open(sealed)) if self.is_legacy(sealed) else sealed

    def _data_key(self, wrapped: bytes) -> bytes:
        now = self.clock()
        with self._lock:
            hit = self._keys.get(wrapped)
            if hit and hit[0] > now:
                return hit[1]
        key = self.kms.decrypt(CiphertextBlob=wrapped, KeyId=self.key_id, EncryptionContext=CONTEXT)["Plaintext"]
        with self._lock:
            if len(self._keys) >= self.cache_size:
                self._keys = {k: v for k, v in self._keys.items() if v[0] > now}
                if len(self._keys) >= self.cache_size:
                    self._keys.clear()
            self._keys[wrapped] = (now + self.cache_seconds, key)
        return key

    def _open_legacy(self, sealed: str) -> str:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        kid, _, blob = sealed.partition(".")
        keys = self.legacy_keys()
        if kid not in keys:
            raise KeyError(f"webhook secret sealed under JWT key {kid!r}, which is gone; rotate the secret")
        key = hmac.new(keys[kid].encode(), b"linli-webhook-secrets", hashlib.sha256).digest()
        raw = base64.urlsafe_b64decode(blob)
        return AESGCM(key).decrypt(raw[:12], raw[12:], kid.encode()).decode()


def legacy_seal(keys: Mapping[str, str], kid: str, secret: str) -> str:
    """How secrets were sealed before envelope encryption (kept for tests of the migration path)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    key = hmac.new(keys[kid].encode(), b"linli-webhook-secrets", hashlib.sha256).digest()
    nonce = os.urandom(12)
    return f"{kid}.{_b64(nonce + AESGCM(key).encrypt(nonce, secret.encode(), kid.encode()))}"


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
    """The secrets that still sign, newest first: the current one and at most one previous one rotated out
    less than 24 h ago (endpoints rotated many times before the cap was introduced sign with two, too).

    Example
    -------
    >>> active_secrets([{"sealed": "a", "expires_at": "2026-11-27T00:00:00.000Z"}, {"sealed": "b"}],
    ...                "2026-11-27T10:00:00.000Z")
    [{'sealed': 'b'}]
    >>> len(active_secrets([{"sealed": str(i), "created_at": str(i), "expires_at": "2026-11-28"} for i in range(5)]
    ...                    + [{"sealed": "now", "created_at": "9"}], "2026-11-27"))
    2
    """
    live = [e for e in entries if not e.get("expires_at") or e["expires_at"] > now_text]
    return sorted(live, key=lambda e: e.get("created_at", ""), reverse=True)[:MAX_SIGNING_SECRETS]
