"""Request limits (core.ratelimit): token buckets on an injected clock, and who shares which bucket."""
from __future__ import annotations

import pytest

from chalicelib.core.errors import RateLimitedError
from chalicelib.core.ratelimit import (
    ANONYMOUS_PER_SOURCE,
    Limit,
    RequestThrottle,
    TenantLimits,
    TokenBuckets,
)
from chalicelib.core.tenancy import Principal, TenantContext
from chalicelib.tenants.plans import DEFAULT_PLAN, PLANS, plan_limits


class FakeClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


def staff(tenant_id: str, user_id: str = "usr_1") -> TenantContext:
    return TenantContext(tenant_id, Principal("staff", user_id))


def api_key(tenant_id: str, key_id: str) -> TenantContext:
    return TenantContext(tenant_id, Principal("api_key", key_id))


def admitted(check, *args) -> bool:
    try:
        check(*args)
    except RateLimitedError:
        return False
    return True


def retry_after(check, *args) -> int:
    with pytest.raises(RateLimitedError) as refused:
        check(*args)
    assert refused.value.status == 429 and refused.value.code == "rate_limited"
    return int(refused.value.headers["Retry-After"])


def test_a_bucket_admits_its_burst_then_refuses_until_a_token_refills(clock):
    buckets, limit = TokenBuckets(clock=clock), Limit(per_second=2, burst=5)
    assert [buckets.take([("k", limit)]) for _ in range(5)] == [None] * 5
    refusal = buckets.take([("k", limit)])
    assert refusal is not None and refusal.key == "k" and refusal.retry_after == pytest.approx(0.5)
    assert refusal.retry_after_seconds == 1
    clock.advance(0.49)
    assert buckets.take([("k", limit)]) is not None
    clock.advance(0.01)
    assert buckets.take([("k", limit)]) is None


def test_a_bucket_refills_at_its_rate_and_never_beyond_its_burst(clock):
    buckets, limit = TokenBuckets(clock=clock), Limit(per_second=10, burst=3)
    for _ in range(3):
        buckets.take([("k", limit)])
    clock.advance(3600)  # an hour idle refills to the burst, not to 36,000
    assert sum(buckets.take([("k", limit)]) is None for _ in range(10)) == 3


def test_retry_after_says_when_the_slowest_empty_bucket_refills(clock):
    buckets = TokenBuckets(clock=clock)
    slow = Limit(per_second=0.1, burst=1)
    buckets.take([("slow", slow)])
    refusal = buckets.take([("fast", Limit(per_second=100, burst=1)), ("slow", slow)])
    assert refusal is not None and refusal.key == "slow" and refusal.retry_after_seconds == 10


def test_a_refusal_takes_no_token_from_the_other_buckets(clock):
    buckets, roomy, tight = TokenBuckets(clock=clock), Limit(1, 3), Limit(1, 1)
    assert buckets.take([("tenant", roomy), ("key", tight)]) is None
    assert buckets.take([("tenant", roomy), ("key", tight)]) is not None  # the key is empty…
    assert buckets.take([("tenant", roomy), ("key", tight)]) is not None
    assert [buckets.take([("tenant", roomy)]) for _ in range(2)] == [None, None]  # …the tenant lost only one


def test_buckets_are_bounded_and_forget_the_least_recently_used(clock):
    buckets, limit = TokenBuckets(clock=clock, max_keys=3), Limit(1, 1)
    for key in ("a", "b", "c"):
        buckets.take([(key, limit)])
    buckets.take([("a", limit)])  # refused, but a is now the most recently used
    buckets.take([("d", limit)])
    assert len(buckets) == 3
    assert buckets.take([("b", limit)]) is None  # b was forgotten: a fresh, full bucket
    assert buckets.take([("a", limit)]) is not None


def test_limits_scale_with_the_containers_they_stand_for():
    assert Limit(5, 20).scaled(20) == Limit(100, 400)
    assert Limit(0.5, 1).scaled(0.1) == Limit(0.05, 1)
    assert PLANS["standard"].scaled(2) == TenantLimits(Limit(40, 120), Limit(10, 40))
    with pytest.raises(ValueError):
        Limit(0, 1)


def throttle(clock: FakeClock, plans: dict[str, str] | None = None) -> RequestThrottle:
    plans = plans or {}
    return RequestThrottle(TokenBuckets(clock=clock), limits_for=lambda tenant_id: plan_limits(plans.get(tenant_id)))


def test_one_tenants_flood_leaves_another_tenants_share_whole(clock):
    limits = throttle(clock, {"tnt_a": "trial"})
    trial = PLANS["trial"].tenant
    assert [admitted(limits.check_principal, staff("tnt_a")) for _ in range(trial.burst)] == [True] * trial.burst
    assert retry_after(limits.check_principal, staff("tnt_a", "usr_other")) == 1  # the whole tenant, any member
    standard = PLANS[DEFAULT_PLAN].tenant
    assert all(admitted(limits.check_principal, staff("tnt_b")) for _ in range(standard.burst))


def test_an_api_key_has_its_own_limit_within_its_tenants(clock):
    limits = throttle(clock)
    per_key = PLANS[DEFAULT_PLAN].api_key
    for _ in range(per_key.burst):
        limits.check_principal(api_key("tnt_a", "key_1"))
    with pytest.raises(RateLimitedError, match="API key"):
        limits.check_principal(api_key("tnt_a", "key_1"))
    assert admitted(limits.check_principal, api_key("tnt_a", "key_2"))  # the tenant's other key
    assert admitted(limits.check_principal, staff("tnt_a"))  # and its staff
    clock.advance(1 / per_key.per_second)
    assert admitted(limits.check_principal, api_key("tnt_a", "key_1"))


def test_api_keys_together_cannot_exceed_their_tenant(clock):
    limits = throttle(clock, {"tnt_a": "trial"})
    plan = PLANS["trial"]
    results = [admitted(limits.check_principal, api_key("tnt_a", f"key_{n}")) for n in range(plan.tenant.burst + 5)]
    assert results.count(True) == plan.tenant.burst
    with pytest.raises(RateLimitedError, match="organisation"):
        limits.check_principal(staff("tnt_a"))


def test_anonymous_requests_are_limited_per_route_and_source(clock):
    limits = throttle(clock)
    login, branding = "/v1/auth/login", "/v1/public/tenants/{slug}/branding"
    burst = ANONYMOUS_PER_SOURCE.burst
    assert all(admitted(limits.check_source, login, "198.51.100.7") for _ in range(burst))
    assert retry_after(limits.check_source, login, "198.51.100.7") == 1
    assert admitted(limits.check_source, login, "203.0.113.9")  # another address
    assert admitted(limits.check_source, branding, "198.51.100.7")  # the same address's resident page still loads
    clock.advance(1 / ANONYMOUS_PER_SOURCE.per_second)
    assert admitted(limits.check_source, login, "198.51.100.7")


def test_the_plan_is_the_platforms_and_unknown_plans_get_the_default():
    assert plan_limits("premium").tenant.per_second > plan_limits("standard").tenant.per_second > \
        plan_limits("trial").tenant.per_second
    for limits in PLANS.values():  # a key never gets more than its tenant
        assert limits.api_key.per_second <= limits.tenant.per_second and limits.api_key.burst <= limits.tenant.burst
    assert plan_limits("enterprise-by-mistake") == PLANS[DEFAULT_PLAN]
