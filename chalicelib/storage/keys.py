"""The one key builder. Tenant-owned partition keys always start with ``T#<tenant_id>#``
(or are exactly ``T#<tenant_id>``), so IAM ``dynamodb:LeadingKeys`` can fence a tenant."""
from __future__ import annotations


def tenant_pk(tenant_id: str, *parts: str) -> str:
    """Partition key of a tenant-owned item.

    Example
    -------
    >>> tenant_pk("tnt_1")
    'T#tnt_1'
    >>> tenant_pk("tnt_1", "EMAIL", "a@b.cn")
    'T#tnt_1#EMAIL#a@b.cn'
    """
    return "#".join(("T", tenant_id, *parts))


def sk(*parts: str) -> str:
    return "#".join(parts)


def event_partition(tenant_id: str, subject_type: str, subject_id: str) -> str:
    """Where the audit/outbox events of a subject live.

    A ticket's events share its partition (the timeline is one Query); the tenant's own events sit
    in the tenant partition; every other subject has an audit partition of its own.

    Example
    -------
    >>> event_partition("tnt_1", "ticket", "tkt_9")
    'T#tnt_1#TKT#tkt_9'
    >>> event_partition("tnt_1", "tenant", "tnt_1")
    'T#tnt_1'
    >>> event_partition("tnt_1", "webhook", "whk_2")
    'T#tnt_1#AUDIT#webhook#whk_2'
    """
    if subject_type == "ticket":
        return tenant_pk(tenant_id, "TKT", subject_id)
    if subject_type == "tenant":
        return tenant_pk(tenant_id)
    return tenant_pk(tenant_id, "AUDIT", subject_type, subject_id)


# Platform-wide keys (touched only by platform code): slug registry and API-key digests.
def slug_pk(slug: str) -> str:
    return f"SLUG#{slug}"


def api_key_pk(secret_digest: str) -> str:
    return f"APIKEY#{secret_digest}"


TENANT_SK = "TENANT"
SLUG_SK = "SLUG"
API_KEY_SK = "APIKEY"
UNIQUE_SK = "UNIQUE"
USER_PREFIX = "USR#"
REFRESH_PREFIX = "RT#"
EVENT_PREFIX = "EVT#"
