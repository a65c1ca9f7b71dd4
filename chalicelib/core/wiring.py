"""How the composition root hands collaborators to the modules of routes (and nothing else does).

A route module declares what it needs as typed slots; ``chalicelib.bootstrap`` fills them once per
container. Route modules never import the composition root, so the arrows point inward and an IDE
follows a call from a route straight into its service.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

T = TypeVar("T")


class NotWiredError(RuntimeError):
    """A route ran before the composition root provided its collaborator."""


class Provided(Generic[T]):
    """A collaborator provided from above, built on first use.

    Example
    -------
    >>> greeter: Provided[str] = Provided("greeter")
    >>> greeter.provide(lambda: "你好")
    >>> greeter()
    '你好'
    """

    def __init__(self, name: str) -> None:
        self.name = name
        self._factory: Callable[[], T] | None = None

    def provide(self, factory: Callable[[], T]) -> None:
        self._factory = factory

    def __call__(self) -> T:
        if self._factory is None:
            raise NotWiredError(f"{self.name} was not provided by the composition root")
        return self._factory()
