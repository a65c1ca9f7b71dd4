"""Staff passwords: hashed with argon2 (``chalicelib.core.auth``); the services take this as a collaborator."""
from __future__ import annotations

from typing import Protocol

from chalicelib.core.auth import hash_password, verify_password


class Passwords(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash, spend the same time and say no."""
        ...


class Argon2Passwords:
    """The production hasher (argon2id, loaded on first use).

    Example
    -------
    ::

        passwords = Argon2Passwords()
        passwords.verify(passwords.hash("Linli-demo-2026"), "Linli-demo-2026")  # True, after ~0.1 s of argon2
    """

    def hash(self, password: str) -> str:
        return hash_password(password)

    def verify(self, password_hash: str | None, password: str) -> bool:
        return verify_password(password_hash, password)


ARGON2 = Argon2Passwords()
