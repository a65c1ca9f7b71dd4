"""Request limits: token buckets per tenant, per API key and per source address, in the container's memory.

What is limited (``core.http`` asks before a route does any work):

- an anonymous request (sign-up, sign-in, refresh, OTP, WeChat login, public branding) per (route, source
  address), before its body is parsed, anything is looked up or a password is hashed;
- an authenticated request per tenant (its staff, residents and API keys together) and, for an API key,
  per key as well, with the limits of the tenant's plan (``tenants.domain.PLANS``).

Why in memory, per container
----------------------------
The check runs on every request and must cost no DynamoDB round trip (ARCHITECTURE.md: a JWT request
authenticates with 0); a shared counter would add an ``UpdateItem`` to every route. So each container keeps
its own buckets, and a limit is a *per-container* share:

- Lambda runs one request at a time per container and API Gateway spreads a tenant's traffic over the N
  containers that are warm, so a tenant gets at most about N × its plan's rate (N is bounded by the API's
  concurrency). The embedded stack is one process standing in for all of a stage's containers, so it scales
  every limit up (``bootstrap.LOCAL_LIMIT_SCALE``).
- The exact, global ceilings sit in front, in infra: API Gateway stage throttling, the usage plan, the WAF's
  rate-based rule per address, reserved concurrency for the consumers (``infra/resources.json``). They cannot
  see the tenant inside a JWT; this can, and it is what keeps one tenant's flood from becoming everyone's.
- A refused request costs well under a millisecond and touches neither the table nor a password hash, so a
  flood's excess is cheap for the container that answers it, and the table never sees it.

A refusal takes no token from any bucket, so a key over its own limit does not drain its tenant's.
"""
from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from chalicelib.core.errors import RateLimitedError
from chalicelib.core.tenancy import TenantContext


@dataclass(frozen=True)
class Limit:
    """A sustained rate (requests per second) and a burst (the bucket's size: what an idle caller may send at once).

    Example
    -------
    >>> Limit(2, 10).scaled(20)
    Limit(per_second=40, burst=200)
    """

    per_second: float
    burst: int

    def __post_init__(self) -> None:
        if self.per_second <= 0 or self.burst < 1:
            raise ValueError("a limit needs a positive rate and a burst of at least 1")

    def scaled(self, factor: float) -> Limit:
        return Limit(self.per_second * factor, max(1, round(self.burst * factor)))


@dataclass(frozen=True)
class TenantLimits:
    """A plan's limits: the whole tenant, and each of its API keys (whose requests count for the tenant too)."""

    tenant: Limit
    api_key: Limit

    def scaled(self, factor: float) -> TenantLimits:
        return TenantLimits(self.tenant.scaled(factor), self.api_key.scaled(factor))


# Per (route, source address), per container: a resident page loads its branding, asks for a code and signs in
# with a handful of requests; sign-in floods (an argon2 hash each) stop after 20 and go on at 5 a second.
ANONYMOUS_PER_SOURCE = Limit(per_second=5, burst=20)


@dataclass(frozen=True)
class Refusal:
    """Which bucket was empty, and when it will hold a token again."""

    key: str
    retry_after: float  # seconds

    @property
    def retry_after_seconds(self) -> int:
        """Whole seconds for ``Retry-After`` (at least 1)."""
        return max(1, math.ceil(self.retry_after))


class TokenBuckets:
    """Token buckets by key, refilled continuously from an injected monotonic clock.

    At most ``max_keys`` buckets are kept (the least recently used go first: a bucket left alone refills,
    so forgetting it loses nothing but a partial refill). Thread-safe: the embedded stack serves on threads.

    Example
    -------
    >>> now = [0.0]
    >>> buckets, limit = TokenBuckets(clock=lambda: now[0]), Limit(per_second=1, burst=2)
    >>> buckets.take([("k", limit)]), buckets.take([("k", limit)])
    (None, None)
    >>> buckets.take([("k", limit)])
    Refusal(key='k', retry_after=1.0)
    >>> now[0] = 1.0
    >>> buckets.take([("k", limit)]) is None
    True
    """

    def __init__(self, *, clock: Callable[[], float] = time.monotonic, max_keys: int = 50_000) -> None:
        self._clock = clock
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()  # key → (tokens, as of)
        self._lock = threading.Lock()

    def take(self, wanted: Sequence[tuple[str, Limit]]) -> Refusal | None:
        """One token from every bucket named, if each holds one (``None``); else none taken, and the refusal
        of the bucket that stays empty longest."""
        with self._lock:
            now = self._clock()
            levels = [self._level(key, limit, now) for key, limit in wanted]
            short = [(key, (1 - tokens) / limit.per_second)
                     for (key, limit), tokens in zip(wanted, levels, strict=True) if tokens < 1]
            taken = 0 if short else 1
            for (key, _), tokens in zip(wanted, levels, strict=True):
                self._store(key, tokens - taken, now)
        if short:
            key, wait = max(short, key=lambda entry: entry[1])
            return Refusal(key, wait)
        return None

    def clear(self) -> None:
        with self._lock:
            self._buckets.clear()

    def __len__(self) -> int:
        return len(self._buckets)

    def _level(self, key: str, limit: Limit, now: float) -> float:
        entry = self._buckets.get(key)
        if entry is None:
            return float(limit.burst)
        tokens, as_of = entry
        return min(float(limit.burst), tokens + max(0.0, now - as_of) * limit.per_second)

    def _store(self, key: str, tokens: float, now: float) -> None:
        self._buckets[key] = (tokens, now)
        self._buckets.move_to_end(key)
        while len(self._buckets) > self._max_keys:
            self._buckets.popitem(last=False)


class RequestThrottle:
    """The edge's limits: anonymous requests per (route, source), authenticated ones per tenant and per API key.

    ``limits_for(tenant_id)`` gives the tenant's plan limits and must not do I/O (it runs on every request).

    Example
    -------
    >>> from chalicelib.core.tenancy import Principal
    >>> throttle = RequestThrottle(TokenBuckets(clock=lambda: 0.0),
    ...                            limits_for=lambda tenant_id: TenantLimits(Limit(1, 1), Limit(1, 1)))
    >>> throttle.check_principal(TenantContext("tnt_a", Principal("staff", "usr_1")))
    >>> throttle.check_principal(TenantContext("tnt_a", Principal("staff", "usr_2")))
    Traceback (most recent call last):
    ...
    chalicelib.core.errors.RateLimitedError: Your organisation is over its request rate; retry after 1 s.
    >>> throttle.check_principal(TenantContext("tnt_b", Principal("staff", "usr_3")))  # another tenant's share
    """

    def __init__(self, buckets: TokenBuckets, *, limits_for: Callable[[str], TenantLimits],
                 anonymous: Limit = ANONYMOUS_PER_SOURCE) -> None:
        self.buckets = buckets
        self._limits_for = limits_for
        self._anonymous = anonymous

    def check_source(self, route: str, source_ip: str) -> None:
        """An anonymous request to ``route`` from ``source_ip``: 429 ``rate_limited`` when over the share."""
        refusal = self.buckets.take([(f"source|{route}|{source_ip}", self._anonymous)])
        if refusal is not None:
            raise RateLimitedError(f"Too many requests from your address; retry after {refusal.retry_after_seconds} s.",
                                   retry_after=refusal.retry_after_seconds)

    def check_principal(self, ctx: TenantContext) -> None:
        """An authenticated request: its tenant's bucket, and its key's when it comes with an API key."""
        limits = self._limits_for(ctx.tenant_id)
        tenant_key = f"tenant|{ctx.tenant_id}"
        wanted = [(tenant_key, limits.tenant)]
        if ctx.principal.kind == "api_key":
            wanted.append((f"api_key|{ctx.tenant_id}|{ctx.principal.id}", limits.api_key))
        refusal = self.buckets.take(wanted)
        if refusal is None:
            return
        seconds = refusal.retry_after_seconds
        if refusal.key == tenant_key:
            raise RateLimitedError(f"Your organisation is over its request rate; retry after {seconds} s.",
                                   retry_after=seconds)
        raise RateLimitedError(f"This API key is over its request rate; retry after {seconds} s.",
                               retry_after=seconds)
