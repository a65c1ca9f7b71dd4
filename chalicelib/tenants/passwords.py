"""Staff passwords as a collaborator of the tenant services: argon2id (``chalicelib.core.auth.PasswordHasher``)
in every stage, with the cost profile from settings; the service tests use a plain stand-in."""
from __future__ import annotations

from typing import Protocol


class Passwords(Protocol):
    def hash(self, password: str) -> str: ...

    def verify(self, password_hash: str | None, password: str) -> bool:
        """Whether ``password`` matches; with no hash, spend the same time and say no."""
        ...
