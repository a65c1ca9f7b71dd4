"""A small per-container TTL cache (tenant config, slug lookups, API-key records)."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

V = TypeVar("V")


class TTLCache(Generic[V]):
    """Example
    -------
    >>> cache: TTLCache[int] = TTLCache(ttl_seconds=60)
    >>> cache.get_or_load("k", lambda: 1)
    1
    """

    def __init__(self, ttl_seconds: float, *, max_items: int = 10_000,
                 monotonic: Callable[[], float] = time.monotonic) -> None:
        self.ttl_seconds = ttl_seconds
        self._max_items = max_items
        self._monotonic = monotonic
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._lock = threading.Lock()

    def get(self, key: Hashable) -> V | None:
        entry = self._items.get(key)
        if entry is None or entry[0] <= self._monotonic():
            return None
        return entry[1]

    def put(self, key: Hashable, value: V) -> None:
        with self._lock:
            if len(self._items) >= self._max_items:
                self._items.clear()
            self._items[key] = (self._monotonic() + self.ttl_seconds, value)

    def get_or_load(self, key: Hashable, load: Callable[[], V]) -> V:
        value = self.get(key)
        if value is None:
            value = load()
            if value is not None:
                self.put(key, value)
        return value

    def invalidate(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
