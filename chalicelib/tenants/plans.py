"""Plans: what a tenant's subscription allows in requests. Pure: no I/O.

A tenant's plan is the ``plan`` attribute of its tenant item, next to (not inside) the configuration document:
the platform sets it (billing, support: an ``UpdateItem`` on the tenant item, seen by every container within
the config cache time), never the tenant. ``PATCH /v1/tenant`` has no ``plan`` field and drops unknown fields,
so an admin cannot raise their own; ``GET /v1/tenant`` shows it.

The limits are per container (``core.ratelimit`` says why and how they add up over N containers).
"""
from __future__ import annotations

from chalicelib.core.ratelimit import Limit, TenantLimits

DEFAULT_PLAN = "standard"
PLANS: dict[str, TenantLimits] = {
    # a trial tenant: a few people trying the console, one integration being built
    "trial": TenantLimits(tenant=Limit(per_second=2, burst=10), api_key=Limit(per_second=1, burst=5)),
    # a property company's desk: dozens of agents polling their queues, residents filing, one or two integrations
    "standard": TenantLimits(tenant=Limit(per_second=20, burst=60), api_key=Limit(per_second=5, burst=20)),
    # large groups: many communities, ERP and IoT integrations syncing all day
    "premium": TenantLimits(tenant=Limit(per_second=50, burst=150), api_key=Limit(per_second=20, burst=60)),
}


def plan_limits(plan: str | None) -> TenantLimits:
    """The limits of ``plan``; the default plan's when it is unknown or not known yet.

    Example
    -------
    >>> plan_limits("trial").tenant
    Limit(per_second=2, burst=10)
    >>> plan_limits(None) == plan_limits("no-such-plan") == PLANS[DEFAULT_PLAN]
    True
    """
    return PLANS.get(plan or DEFAULT_PLAN, PLANS[DEFAULT_PLAN])
