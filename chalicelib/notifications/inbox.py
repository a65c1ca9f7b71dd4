"""The in-app inbox of every person (staff member or resident), and their notification preferences."""
from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import datetime

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, LinliError, NotFoundError
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.uow import MAX_TRANSACTION_ITEMS, UnitOfWork, UnitOfWorkFactory
from chalicelib.notifications.domain import InboxNotification, InboxPage, Preferences
from chalicelib.notifications.ports import InboxStore

MARK_CHUNK = 50  # notifications marked read per transaction (with the counter: well under 100 items)


class _FiledAlreadyError(ConflictError):
    """The notification of this event is in the inbox already (a redelivered event)."""


class _ReadAlreadyError(ConflictError):
    """One of the notifications being marked was read meanwhile."""


class InboxService:
    """Owns each person's inbox (filing, paging, the unread count, marking read) and their preferences.

    Example
    -------
    ::

        inbox = InboxService(InboxRepository(cursors), UnitOfWork)
        inbox.file(ctx, "res_1", notification_for(event, title, body, stamp), now)  # False: filed already
        page = inbox.page(ctx, "res_1", 25, None, unread_only=False)              # one Query
    """

    def __init__(self, store: InboxStore, new_uow: UnitOfWorkFactory) -> None:
        self.store, self.new_uow = store, new_uow

    # --- writes from the consumer -----------------------------------------------------------------
    def file(self, ctx: TenantContext, person_id: str, notification: InboxNotification, now: datetime) -> bool:
        """Store one notification and count it unread, atomically; False when it is there already."""
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.store.stage_file(uow, ctx, person_id, notification, on_conflict=_FiledAlreadyError())
        try:
            uow.commit()  # a write conflict on the counter raises: the consumer retries
        except _FiledAlreadyError:
            return False
        return True

    def file_all(self, ctx: TenantContext, notes: Sequence[tuple[str, InboxNotification]], now: datetime, *,
                 with_writes: Callable[[UnitOfWork, LinliError], None] | None = None) -> bool:
        """Store several people's notifications and count them unread, with ``with_writes``' writes (staged with
        the conflict error they are given), in one atomic write; False, and nothing written, when any of them is
        there already, one of those writes meets something there, or it all is more than one transaction takes (the
        caller then goes one by one)."""
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        for person_id, notification in notes:
            self.store.stage_file(uow, ctx, person_id, notification, on_conflict=_FiledAlreadyError())
        if with_writes is not None:
            with_writes(uow, _FiledAlreadyError())
        if uow.size() > MAX_TRANSACTION_ITEMS:
            return False
        try:
            uow.commit()
        except _FiledAlreadyError:
            return False
        return True

    def preferences(self, ctx: TenantContext, person_ids: list[str]) -> dict[str, Preferences]:
        """Preferences of several people at once (absent = nothing muted)."""
        return self.store.preferences(ctx, person_ids)

    # --- reads and writes of the person ------------------------------------------------------------
    def page(self, ctx: TenantContext, person_id: str, limit: int, cursor: str | None, unread_only: bool
             ) -> InboxPage:
        return self.store.page(ctx, person_id, limit, cursor, unread_only)

    def unread_count(self, ctx: TenantContext, person_id: str) -> int:
        return self.store.unread_count(ctx, person_id)

    def mark_read(self, ctx: TenantContext, person_id: str, notification_id: str, now: datetime
                  ) -> InboxNotification:
        """Mark one notification read; marking it again changes nothing."""
        note = self.store.get(ctx, person_id, notification_id)
        if note is None:
            raise NotFoundError()
        if note.read_at is None and self._mark(ctx, person_id, [note], now):
            return replace(note, read_at=to_rfc3339(now))
        return note

    def mark_all_read(self, ctx: TenantContext, person_id: str, now: datetime) -> int:
        """Mark every unread notification read; returns how many this call marked."""
        unread = self.store.unread(ctx, person_id)
        marked = 0
        for start in range(0, len(unread), MARK_CHUNK):
            chunk = unread[start:start + MARK_CHUNK]
            if self._mark(ctx, person_id, chunk, now):
                marked += len(chunk)
            else:  # someone read one of them meanwhile: one by one
                marked += sum(1 for note in chunk if self._mark(ctx, person_id, [note], now))
        return marked

    def _mark(self, ctx: TenantContext, person_id: str, notes: list[InboxNotification], now: datetime) -> bool:
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.store.stage_mark_read(uow, ctx, person_id, notes, now, on_conflict=_ReadAlreadyError())
        try:
            uow.commit()
        except _ReadAlreadyError:
            return False  # read meanwhile
        return True

    def get_preferences(self, ctx: TenantContext, person_id: str) -> Preferences:
        return self.store.preferences(ctx, [person_id]).get(person_id, Preferences())

    def set_preferences(self, ctx: TenantContext, person_id: str, muted_channels: list[str], muted_events: list[str],
                        now: datetime) -> Preferences:
        preferences = Preferences(frozenset(muted_channels), frozenset(muted_events))
        uow = self.new_uow(ctx.tenant_id, ctx.actor, now)
        self.store.stage_preferences(uow, ctx, person_id, preferences, now)
        uow.commit()
        return preferences
