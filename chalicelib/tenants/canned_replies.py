"""Canned replies (快捷回复): the tenant's reply snippets for the ticket desk — listed, added, changed, removed.

Rules (placeholders, which replies suit a ticket, their order, rendering) are pure, in ``reply_templates``.
"""
from __future__ import annotations

from dataclasses import asdict, replace
from datetime import datetime
from typing import Protocol

from chalicelib.core.cache import TTLCache
from chalicelib.core.changes import field_changes
from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError, PreconditionFailedError
from chalicelib.core.ids import new_id
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import UnitOfWorkFactory
from chalicelib.tenants import reply_templates
from chalicelib.tenants.access import TenantAccess
from chalicelib.tenants.domain import TenantConfig, invalid
from chalicelib.tenants.ports import CannedReplyStore
from chalicelib.tenants.records import CannedReply
from chalicelib.tenants.schemas import CannedReplyIn, CannedReplyOut, CannedReplyPatch

MAX_CANNED_REPLIES = 200
AUDITED = ("title", "body", "kind", "category", "sort_order")


class Configs(Protocol):
    def config(self, tenant_id: str) -> TenantConfig: ...


def canned_reply_out(reply: CannedReply) -> CannedReplyOut:
    return CannedReplyOut(id=reply.reply_id, title=reply.title, body=reply.body, kind=reply.kind,
                          category=reply.category, sort_order=reply.sort_order,
                          placeholders=reply_templates.placeholders_in(reply.body), created_at=reply.created_at,
                          updated_at=reply.updated_at, version=reply.version)


def check_scope(config: TenantConfig, kind: str | None, category: str | None) -> None:
    """A reply's kind must be one of the catalogue's; its category one of the kind's (a kind listing none takes
    any, as filing does), or without a kind one of some kind's."""
    if kind is not None:
        found = config.kind(kind)
        if found is None:
            raise invalid("kind", "No such ticket kind in this company's catalogue.", "unknown_kind")
        if category is not None and found.categories and category not in found.categories:
            raise invalid("category", f"Categories of {kind}: {', '.join(found.categories)}", "unknown_category")
    elif category is not None and not any(category in k.categories for k in config.ticket_kinds):
        raise invalid("category", "No ticket kind of this company has this category.", "unknown_category")


class CannedReplyService:
    """Owns the tenant's canned replies: the listing (fresh, one Query), the desk's copy (cached per container like
    the tenant's configuration, ≤ 60 s; a change made here shows here at once), and audited changes re-checking
    the acting member — at most :data:`MAX_CANNED_REPLIES`, counted in the same transaction."""

    def __init__(self, store: CannedReplyStore, configs: Configs, new_uow: UnitOfWorkFactory, access: TenantAccess,
                 *, cache_seconds: float) -> None:
        self._store, self._configs, self._new_uow, self._access = store, configs, new_uow, access
        self._desk: TTLCache[list[CannedReply]] = TTLCache(cache_seconds)

    def list_replies(self, ctx: TenantContext, kind: str | None = None,
                     category: str | None = None) -> list[CannedReplyOut]:
        """Every reply, or those a kind and/or category filter keeps (the general ones always), in desk order."""
        replies = [r for r in self._store.canned_replies(ctx) if reply_templates.within(r, kind, category)]
        return [canned_reply_out(r) for r in reply_templates.desk_order(replies)]

    def for_desk(self, ctx: TenantContext) -> list[CannedReply]:
        """Every reply, cached per container (the ticket desk asks on every ticket it opens)."""
        return self._desk.get_or_load(ctx.tenant_id, lambda: self._store.canned_replies(ctx))

    def create(self, ctx: TenantContext, cmd: CannedReplyIn, now: datetime) -> CannedReplyOut:
        check_scope(self._configs.config(ctx.tenant_id), cmd.kind, cmd.category)
        stamp = to_rfc3339(now)
        reply = CannedReply(tenant_id=ctx.tenant_id, reply_id=new_id("crp"), title=cmd.title, body=cmd.body,
                            kind=cmd.kind, category=cmd.category, sort_order=cmd.sort_order, created_at=stamp,
                            updated_at=stamp)
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        self._access.stage_actor_check(uow, ctx)
        self._store.stage_new_canned_reply(uow, ctx, reply, most=MAX_CANNED_REPLIES, on_full=ConflictError(
            f"A company keeps at most {MAX_CANNED_REPLIES} canned replies; remove one first.",
            code="too_many_canned_replies"))
        uow.record("canned_reply.created", subject=("canned_reply", reply.reply_id), subject_version=1,
                   data={name: getattr(reply, name) for name in AUDITED})
        uow.commit()
        self._desk.invalidate(ctx.tenant_id)
        return canned_reply_out(reply)

    def update(self, ctx: TenantContext, reply_id: str, patch: CannedReplyPatch, if_match: int | None,
               now: datetime) -> CannedReplyOut:
        """Change a reply (``If-Match`` honoured; ``kind`` or ``category`` null: general again)."""
        reply = self._reply_or_404(ctx, reply_id, if_match)
        fields = patch.model_dump(exclude_unset=True)
        fields = {k: v for k, v in fields.items() if v is not None or k in ("kind", "category")}
        changed = replace(reply, **fields)
        if "kind" in fields or "category" in fields:
            check_scope(self._configs.config(ctx.tenant_id), changed.kind, changed.category)
        changes = field_changes({k: getattr(reply, k) for k in AUDITED}, {k: getattr(changed, k) for k in AUDITED})
        if not changes:
            return canned_reply_out(reply)
        changed = replace(changed, updated_at=to_rfc3339(now), version=reply.version + 1)
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        self._access.stage_actor_check(uow, ctx)
        self._store.stage_canned_reply_update(uow, ctx, changed, expected_version=reply.version,
                                              on_conflict=PreconditionFailedError())
        uow.record("canned_reply.updated", subject=("canned_reply", reply_id), subject_version=changed.version,
                   changes=changes)
        uow.commit()
        self._desk.invalidate(ctx.tenant_id)
        return canned_reply_out(changed)

    def delete(self, ctx: TenantContext, reply_id: str, if_match: int | None, now: datetime) -> None:
        reply = self._reply_or_404(ctx, reply_id, if_match)
        uow = self._new_uow(ctx.tenant_id, ctx.actor, now)
        self._access.stage_actor_check(uow, ctx)
        self._store.stage_canned_reply_delete(uow, ctx, reply, on_conflict=PreconditionFailedError())
        uow.record("canned_reply.deleted", subject=("canned_reply", reply_id), subject_version=reply.version,
                   data={name: value for name, value in asdict(reply).items() if name in AUDITED})
        uow.commit()
        self._desk.invalidate(ctx.tenant_id)

    def _reply_or_404(self, ctx: TenantContext, reply_id: str, if_match: int | None) -> CannedReply:
        reply = self._store.get_canned_reply(ctx, reply_id, consistent=True)
        if reply is None:
            raise NotFoundError()
        if if_match is not None and if_match != reply.version:
            raise PreconditionFailedError()
        return reply
