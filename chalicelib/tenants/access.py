"""Access that ends when it should: revoked tokens and the re-check of the actor on administrative changes.

Access tokens are verified without a store read, so ending someone's access early needs state every
request can see for free: the tenant item carries ``revoked`` — subject id → the millisecond their
access was cut — and the tenant item is cached per container with the configuration (≤ 60 s, read on
every request anyway), so checking a token costs no round trip and takes effect everywhere within the
config cache time. A token issued at or before that millisecond is refused (``token_revoked``); tokens
issued after it (the member signing in again, the resident refreshing) are not. Entries older than the
longest access-token lifetime can no longer match a live token and are dropped on the next revocation,
so the map stays as small as one token lifetime's revocations.

Administrative changes (staff, roles, API keys, webhooks, tenant configuration) do not trust the token's
role at all: their transaction carries a ConditionCheck that the acting member is still active with
that role, so a demoted, disabled or deleted admin's change fails at once (``access_revoked``) at no
extra round trip. Revocation stamps use the service's ``now``; Lambda hosts' clocks agree to well
under the time a person needs to sign in again.
"""
from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING

from chalicelib.core.errors import UnauthenticatedError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWork
from chalicelib.tenants.ports import TenantStore

if TYPE_CHECKING:
    from chalicelib.tenants.config import TenantConfigs


def revoked_token(revoked: dict[str, int], subject_id: str, issued_ms: int) -> bool:
    """Whether a token of ``subject_id`` issued at ``issued_ms`` was cut off.

    Example
    -------
    >>> revoked_token({"usr_1": 1000}, "usr_1", 999), revoked_token({"usr_1": 1000}, "usr_1", 1001)
    (True, False)
    >>> revoked_token({}, "usr_1", 5)
    False
    """
    cut = revoked.get(subject_id)
    return cut is not None and issued_ms <= cut


def expired_entries(revoked: dict[str, int], now_ms: int, keep_ms: int) -> list[str]:
    """The entries no live token can match any more (older than the longest token lifetime).

    Example
    -------
    >>> expired_entries({"a": 1_000, "b": 9_000}, now_ms=10_000, keep_ms=5_000)
    ['a']
    """
    return sorted(subject for subject, cut in revoked.items() if cut < now_ms - keep_ms)


def access_revoked() -> UnauthenticatedError:
    return UnauthenticatedError("Your access has changed; sign in again.", code="access_revoked")


def stage_actor_check(store: TenantStore, uow: UnitOfWork, ctx: TenantContext) -> None:
    """Commit only if the acting staff member is still active with the role their token claims.

    API keys never hold administrative permissions (``API_KEY_SCOPES``) and the system acts for itself,
    so only staff actors are checked."""
    if ctx.principal.kind == "staff" and ctx.principal.role is not None:
        store.stage_actor_check(uow, ctx, on_conflict=access_revoked())


class TenantAccess:
    """Owns access revocation: cutting a staff member's or a resident's tokens off (staged with the change
    that causes it), refusing cut-off tokens from the cached tenant, and re-checking the actor of an
    administrative change against the store inside that change's transaction."""

    def __init__(self, store: TenantStore, configs: TenantConfigs, *, longest_token_seconds: int) -> None:
        self._store = store
        self._configs = configs
        self._keep_ms = (longest_token_seconds + 60) * 1000

    def stage_revoke(self, uow: UnitOfWork, ctx: TenantContext, subject_id: str, now: datetime) -> None:
        """Cut off every token of ``subject_id`` issued up to ``now`` (committed with ``uow``; call
        :meth:`committed` once it is)."""
        now_ms = int(now.timestamp() * 1000)
        stale = expired_entries(self._configs.revocations(ctx.tenant_id), now_ms, self._keep_ms)
        self._store.stage_revocation(uow, ctx, subject_id, now_ms, forget=[s for s in stale if s != subject_id])

    def committed(self, tenant_id: str) -> None:
        """After a revocation commits: this container reads the tenant afresh at once (the others within the
        config cache time)."""
        self._configs.forget(tenant_id)

    def api_keys_outlive_creator(self, tenant_id: str) -> bool:
        """Whether the tenant keeps the API keys of a member who is disabled or removed (default: no)."""
        return self._configs.config(tenant_id).api_keys_outlive_creator

    def check_token(self, tenant_id: str, subject_id: str, issued_ms: int) -> None:
        """Refuse a token that was cut off (no round trip while the tenant is cached)."""
        if revoked_token(self._configs.revocations(tenant_id), subject_id, issued_ms):
            raise UnauthenticatedError("This session has ended; sign in again.", code="token_revoked")

    def stage_actor_check(self, uow: UnitOfWork, ctx: TenantContext) -> None:
        """Commit only if the acting staff member is still active with the role their token claims."""
        stage_actor_check(self._store, uow, ctx)
