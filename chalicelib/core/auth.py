"""Credentials: access JWTs (PyJWT, HS256 pinned, ``kid`` for rotation), passwords (argon2),
opaque secrets (API keys, refresh tokens) stored only as SHA-256 digests."""
from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import cached_property
from typing import Any

from chalicelib.core.errors import UnauthenticatedError
from chalicelib.core.tenancy import UnitClaim

ALGORITHM = "HS256"
ISSUER = "linli"
API_KEY_PREFIX = "lk_live_"


def _pyjwt() -> Any:
    """PyJWT, loaded on first use without the ``cryptography`` package unless something loaded it already.

    PyJWT imports cryptography when it is installed, for the RSA and EC algorithms; tokens here are HS256 only
    (``hmac`` in the standard library), and that import was 150 ms of a new container's first request.
    ``cryptography`` stays importable afterwards: only PyJWT's own import is made without it.
    """
    import sys

    if "jwt" in sys.modules or "cryptography" in sys.modules:
        import jwt

        return jwt
    sys.modules["cryptography"] = None  # type: ignore[assignment] # PyJWT then takes it as not installed
    try:
        import jwt
    finally:
        if sys.modules.get("cryptography", 0) is None:
            del sys.modules["cryptography"]
    return jwt


@dataclass(frozen=True)
class AccessClaims:
    tenant_id: str
    subject: str
    kind: str
    role: str | None
    units: tuple[UnitClaim, ...] = ()
    issued_ms: int = 0  # when it was issued, in milliseconds: what access revocation compares with
    name: str | None = None  # a resident's name (``nm``)
    phone_hint: str | None = None  # a resident's masked phone (``ph``): never the number itself


class TokenCodec:
    """Issues and verifies access tokens with a keyring ``{kid: secret}``.

    Example
    -------
    >>> codec = TokenCodec({"k1": "x" * 32}, "k1", ttl_seconds=60)
    >>> token = codec.issue(tenant_id="tnt_1", subject="usr_1", kind="staff", role="admin", now=datetime.now())
    >>> codec.verify(token).tenant_id
    'tnt_1'
    """

    def __init__(self, keys: dict[str, str], active_kid: str, ttl_seconds: int,
                 clock: Callable[[], datetime] | None = None) -> None:
        if active_kid not in keys:
            raise ValueError("the active JWT kid is not in the keyring")
        self._keys = dict(keys)
        self._active_kid = active_kid
        self.ttl_seconds = ttl_seconds
        self._clock = clock  # None: the wall clock (PyJWT's own check); tests pass the moment they stand at

    def issue(self, *, tenant_id: str, subject: str, kind: str, role: str | None, now: datetime,
              units: list[tuple[str, ...]] | None = None, ttl_seconds: int | None = None,
              name: str | None = None, phone_hint: str | None = None) -> str:
        jwt = _pyjwt()
        ttl = ttl_seconds or self.ttl_seconds
        claims: dict[str, Any] = {
            "iss": ISSUER, "sub": subject, "tid": tenant_id, "typ": kind,
            "iat": int(now.timestamp()), "exp": int((now + timedelta(seconds=ttl)).timestamp()),
            "jti": secrets.token_hex(8), "ims": int(now.timestamp() * 1000),
        }
        if role:
            claims["role"] = role
        if units is not None:
            claims["units"] = [list(u) for u in units]
        if name:
            claims["nm"] = name
        if phone_hint:
            claims["ph"] = phone_hint
        return jwt.encode(claims, self._keys[self._active_kid], algorithm=ALGORITHM,
                          headers={"kid": self._active_kid})

    def verify(self, token: str) -> AccessClaims:
        jwt = _pyjwt()
        try:
            kid = jwt.get_unverified_header(token).get("kid")
            key = self._keys.get(kid or "")
            if key is None:
                raise UnauthenticatedError()
            if self._clock is None:
                claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER,
                                    options={"require": ["exp", "iat", "sub", "tid", "typ"]})
            else:
                claims = jwt.decode(token, key, algorithms=[ALGORITHM], issuer=ISSUER, options={
                    "require": ["exp", "iat", "sub", "tid", "typ"], "verify_exp": False, "verify_iat": False})
                now = self._clock().timestamp()
                if not claims["iat"] <= now < claims["exp"]:
                    raise UnauthenticatedError()
        except jwt.PyJWTError as exc:
            raise UnauthenticatedError() from exc
        try:
            units = tuple(UnitClaim(*(str(part) for part in unit[:4])) for unit in claims.get("units", []))
        except TypeError as exc:  # a unit claim without community and unit ids
            raise UnauthenticatedError() from exc
        issued_ms = claims.get("ims")
        if not isinstance(issued_ms, int):
            issued_ms = int(claims["iat"]) * 1000
        name, phone_hint = claims.get("nm"), claims.get("ph")
        return AccessClaims(tenant_id=claims["tid"], subject=claims["sub"], kind=claims["typ"],
                            role=claims.get("role"), units=units, issued_ms=issued_ms,
                            name=name if isinstance(name, str) else None,
                            phone_hint=phone_hint if isinstance(phone_hint, str) else None)


def digest(secret: str) -> str:
    """SHA-256 hex digest for high-entropy secrets (API keys, refresh tokens)."""
    return hashlib.sha256(secret.encode()).hexdigest()


def new_secret(prefix: str = "", nbytes: int = 32) -> str:
    return prefix + secrets.token_urlsafe(nbytes)


def constant_time_equal(a: str, b: str) -> bool:
    return hmac.compare_digest(a.encode(), b.encode())


# argon2id parameters: RFC 9106's second recommended option (the argon2-cffi default), and a cheap profile
# that only the local stages may choose (tests sign up hundreds of accounts; nothing there is a real secret).
HASH_PROFILES: dict[str, dict[str, int]] = {
    "standard": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    "fast": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


class PasswordHasher:
    """argon2id hashing (loaded on first use: login and signup pay for it, cold starts don't).

    Example
    -------
    >>> hasher = PasswordHasher("fast")
    >>> hasher.verify(hasher.hash("Linli-demo-2026"), "Linli-demo-2026"), hasher.verify(None, "x")
    (True, False)
    """

    def __init__(self, profile: str = "standard") -> None:
        self._parameters = HASH_PROFILES[profile]
        self._dummy: str | None = None

    @cached_property
    def _argon2(self):  # noqa: ANN202 - argon2.PasswordHasher, imported lazily
        from argon2 import PasswordHasher as Argon2

        return Argon2(**self._parameters)

    def hash(self, password: str) -> str:
        return self._argon2.hash(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Check a password; with no hash, burn the same time so unknown users look like known ones."""
        from argon2.exceptions import InvalidHashError, VerificationError

        if password_hash is None:
            self._dummy = self._dummy or self.hash(secrets.token_hex(16))
            try:
                self._argon2.verify(self._dummy, password)
            except (VerificationError, InvalidHashError):
                pass
            return False
        try:
            return self._argon2.verify(password_hash, password)
        except (VerificationError, InvalidHashError):
            return False
