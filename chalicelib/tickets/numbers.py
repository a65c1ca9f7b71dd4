"""Ticket numbers that never collide and stay short enough to read out on the phone.

A number is the day (``yymmdd``, China time) and the ticket's place in that day's sequence for the tenant, at least
five digits: ``26112800042``. Each container reserves a block of :data:`BLOCK` numbers with one atomic ``ADD`` on
the tenant's counter for the day and hands them out in order, so a create costs that extra write once every
:data:`BLOCK` tickets per container, and two containers never hold the same number. A container that stops before
using its block leaves a gap, never a duplicate (the number's uniqueness claim in the create's transaction stays as
the safety net). The limit: 99,999 tickets per tenant per day keep the 11 digits; beyond, the sequence simply grows a
digit (12), still unique because a number's length tells the two apart.
"""
from __future__ import annotations

import threading
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

BLOCK = 20
CHINA = ZoneInfo("Asia/Shanghai")

Reserve = Callable[[str, str, int], int]  # (tenant id, day yymmdd, how many) → the counter after adding them


def ticket_number(day: str, sequence: int) -> str:
    """The number of the day's ``sequence``-th ticket.

    >>> ticket_number("261128", 42), ticket_number("261128", 123456)
    ('26112800042', '261128123456')
    """
    return f"{day}{sequence:05d}"


class NumberBlocks:
    """This container's unused numbers per (tenant, day), refilled a block at a time (thread-safe).

    >>> counter = {}
    >>> def reserve(tenant, day, size):
    ...     counter[(tenant, day)] = counter.get((tenant, day), 0) + size
    ...     return counter[(tenant, day)]
    >>> a, b = NumberBlocks(reserve, block=3), NumberBlocks(reserve, block=3)
    >>> now = datetime(2026, 11, 28, 2, 0, tzinfo=CHINA)
    >>> [a.next("tnt_1", now) for _ in range(4)], b.next("tnt_1", now)
    (['26112800001', '26112800002', '26112800003', '26112800004'], '26112800007')
    """

    def __init__(self, reserve: Reserve, *, block: int = BLOCK) -> None:
        self._reserve, self._block = reserve, block
        self._free: dict[tuple[str, str], list[int]] = {}
        self._lock = threading.Lock()

    def next(self, tenant_id: str, now: datetime) -> str:
        day = now.astimezone(CHINA).strftime("%y%m%d")
        with self._lock:
            free = self._free.setdefault((tenant_id, day), [])
            if not free:
                upper = self._reserve(tenant_id, day, self._block)
                free.extend(range(upper - self._block + 1, upper + 1))
                for stale in [key for key in self._free if key[1] < day]:  # yesterday's leftovers
                    del self._free[stale]
            return ticket_number(day, free.pop(0))
