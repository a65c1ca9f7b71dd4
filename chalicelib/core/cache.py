"""A small per-container TTL cache (tenant config, slug lookups, API-key records), optionally refreshed ahead."""
from __future__ import annotations

import threading
import time
from collections.abc import Callable, Hashable
from typing import Generic, TypeVar

from chalicelib.core.observability import logger

V = TypeVar("V")
Spawn = Callable[[Callable[[], None]], None]


def in_thread(job: Callable[[], None]) -> None:
    """Run ``job`` beside the request (a daemon thread: in Lambda it runs while the invocation does, and an
    unfinished one resumes with the container's next invocation)."""
    threading.Thread(target=job, name="cache-refresh", daemon=True).start()


class TTLCache(Generic[V]):
    """Values kept for ``ttl_seconds``. With ``refresh_ahead_seconds``, a read in the last seconds of a value's life
    returns it and loads its successor beside the request, so a key read steadily is never loaded on a request's
    path; past its life a value is never returned (the load is on the path, as without refresh-ahead).

    Example
    -------
    >>> cache: TTLCache[int] = TTLCache(ttl_seconds=60)
    >>> cache.get_or_load("k", lambda: 1)
    1
    >>> clock, jobs = [0.0], []
    >>> ahead: TTLCache[str] = TTLCache(60, refresh_ahead_seconds=15, monotonic=lambda: clock[0], spawn=jobs.append)
    >>> ahead.get_or_load("k", lambda: "v1"), jobs
    ('v1', [])
    >>> clock[0] = 50.0  # in the last 15 s: the value now, its successor loaded aside
    >>> ahead.get_or_load("k", lambda: "v2"), len(jobs)
    ('v1', 1)
    >>> ahead.get_or_load("k", lambda: "v2"), len(jobs)  # one refresh at a time
    ('v1', 1)
    >>> jobs.pop()()
    >>> clock[0] = 100.0  # v2 was put at 50 s: good until 110 s
    >>> ahead.get_or_load("k", lambda: "v3")
    'v2'
    """

    def __init__(self, ttl_seconds: float, *, max_items: int = 10_000, refresh_ahead_seconds: float = 0.0,
                 monotonic: Callable[[], float] = time.monotonic, spawn: Spawn = in_thread) -> None:
        self.ttl_seconds = ttl_seconds
        self._max_items = max_items
        self._ahead = refresh_ahead_seconds
        self._monotonic = monotonic
        self._spawn = spawn
        self._items: dict[Hashable, tuple[float, V]] = {}
        self._refreshing: set[Hashable] = set()
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
        entry = self._items.get(key)
        now = self._monotonic()
        if entry is not None and entry[0] > now:
            if self._ahead and entry[0] - now <= self._ahead:
                self._refresh(key, load)
            return entry[1]
        value = load()
        if value is not None:
            self.put(key, value)
        return value

    def _refresh(self, key: Hashable, load: Callable[[], V]) -> None:
        with self._lock:
            if key in self._refreshing:
                return
            self._refreshing.add(key)
            entry = self._items.get(key)

        def job() -> None:
            try:
                value = load()
                with self._lock:  # a value put meanwhile (a write's own result) is newer than what was loaded
                    if value is not None and self._items.get(key) is entry:
                        self._items[key] = (self._monotonic() + self.ttl_seconds, value)
            except Exception:  # noqa: BLE001 - the value expires as it would have; the next read loads on its path
                logger.exception("cache refresh failed")
            finally:
                with self._lock:
                    self._refreshing.discard(key)

        self._spawn(job)

    def invalidate(self, key: Hashable) -> None:
        with self._lock:
            self._items.pop(key, None)

    def clear(self) -> None:
        with self._lock:
            self._items.clear()
