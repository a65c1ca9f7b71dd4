"""The in-app inbox of every person (staff member or resident), and their notification preferences.

One partition per person, ``T#<tenant>#INBOX#<person id>``: notifications under ``N#<event token>``
(one per event, so a redelivered event writes nothing twice; newest first), the unread counter
under ``UNREAD`` (sorts after every ``N#``, so a newest-first Query returns it first — the first
page and the badge count in one round trip) and the preferences under ``PREFS``. A notification
expires 90 days after it is read, never while unread, so the counter cannot drift from expiries.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from pynamodb.attributes import ListAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.clock import to_rfc3339
from chalicelib.core.errors import ConflictError, NotFoundError
from chalicelib.core.pagination import CursorCodec
from chalicelib.storage import keys
from chalicelib.storage.table import CounterItem, LinliModel
from chalicelib.storage.unit_of_work import UnitOfWork

RETENTION_DAYS = 90
UNREAD_SK, PREFS_SK, PREFIX = "UNREAD", "PREFS", "N#"
SYSTEM = {"type": "system", "id": "notifications", "role": None}


class InboxItem(LinliModel, discriminator="inbox_notification"):
    notification_id = UnicodeAttribute()
    event_id = UnicodeAttribute()
    event_type = UnicodeAttribute()
    title = UnicodeAttribute()
    body = UnicodeAttribute()
    ticket_id = UnicodeAttribute(null=True)
    urgent = UnicodeAttribute(null=True)
    read_at = UnicodeAttribute(null=True)
    created_at = UnicodeAttribute()


class PreferencesItem(LinliModel, discriminator="notification_preferences"):
    muted_channels = ListAttribute(of=UnicodeAttribute, default=list)
    muted_events = ListAttribute(of=UnicodeAttribute, default=list)
    updated_at = UnicodeAttribute()


@dataclass(frozen=True)
class Preferences:
    muted_channels: frozenset[str] = field(default_factory=frozenset)
    muted_events: frozenset[str] = field(default_factory=frozenset)

    def mutes(self, event_type: str, channel: str) -> bool:
        """The inbox is the record of what happened: it can't be muted.

        Example
        -------
        >>> Preferences(frozenset({"sms", "inbox"})).mutes("ticket.resolved", "sms")
        True
        >>> Preferences(frozenset({"sms", "inbox"})).mutes("ticket.resolved", "inbox")
        False
        """
        return channel != "inbox" and (channel in self.muted_channels or event_type in self.muted_events)


class _Done(ConflictError):
    """The notification is there already (delivering) or read already (marking)."""


def inbox_pk(tenant_id: str, person_id: str) -> str:
    return keys.tenant_pk(tenant_id, "INBOX", person_id)


class InboxStore:
    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    # --- writes from the consumer -----------------------------------------------------------------
    def deliver(self, tenant_id: str, person_id: str, event: dict[str, Any], title: str, body: str,
                now: datetime, *, urgent: bool = False) -> bool:
        """Store one notification and count it unread, atomically; False when it is there already."""
        token = event["id"].removeprefix("evt_")
        pk = inbox_pk(tenant_id, person_id)
        subject = event.get("subject") or {}
        item = InboxItem(pk, PREFIX + token, notification_id=f"ntf_{token}", event_id=event["id"],
                         event_type=event["type"], title=title, body=body,
                         ticket_id=subject.get("id") if subject.get("type") == "ticket" else None,
                         urgent="true" if urgent else None, created_at=to_rfc3339(now))
        uow = UnitOfWork(tenant_id, SYSTEM, now)
        uow.put(item, condition=InboxItem.PK.does_not_exist(), on_conflict=_Done())
        uow.update(CounterItem(pk, UNREAD_SK), [CounterItem.count.add(1), CounterItem.entity.set(CounterItem)])
        try:
            uow.commit()  # a write conflict on the counter raises: the consumer retries
        except _Done:
            return False  # delivered already
        return True

    def preferences(self, tenant_id: str, person_ids: list[str]) -> dict[str, Preferences]:
        """Preferences of several people in one BatchGetItem (absent = nothing muted)."""
        found: dict[str, Preferences] = {}
        wanted = [(inbox_pk(tenant_id, p), PREFS_SK) for p in dict.fromkeys(person_ids)]
        for item in PreferencesItem.batch_get(wanted) if wanted else []:
            person = item.PK.rsplit("#", 1)[1]
            found[person] = Preferences(frozenset(item.muted_channels or []), frozenset(item.muted_events or []))
        return found

    # --- reads and writes of the person ------------------------------------------------------------
    def page(self, tenant_id: str, person_id: str, limit: int, cursor: str | None, unread_only: bool
             ) -> tuple[list[InboxItem], int | None, str | None]:
        pk = inbox_pk(tenant_id, person_id)
        start = self._cursors.decode(tenant_id, cursor)
        condition = InboxItem.read_at.does_not_exist() if unread_only else None
        results = LinliModel.query(pk, LinliModel.SK <= UNREAD_SK, scan_index_forward=False,
                                   limit=limit + (0 if start else 2), last_evaluated_key=start,
                                   filter_condition=condition)
        items, next_cursor = self._cursors.page(tenant_id, results)
        unread = None if start else 0
        notifications = []
        for item in items:
            if isinstance(item, CounterItem) and item.SK == UNREAD_SK:
                unread = max(0, int(item.count))
            elif isinstance(item, InboxItem):
                notifications.append(item)
        return notifications, unread, next_cursor

    def unread_count(self, tenant_id: str, person_id: str) -> int:
        try:
            return max(0, int(CounterItem.get(inbox_pk(tenant_id, person_id), UNREAD_SK).count))
        except DoesNotExist:
            return 0

    def mark_read(self, tenant_id: str, person_id: str, notification_id: str, now: datetime) -> InboxItem:
        pk, sk = inbox_pk(tenant_id, person_id), PREFIX + notification_id.removeprefix("ntf_")
        try:
            item = InboxItem.get(pk, sk, consistent_read=True)
        except DoesNotExist:
            raise NotFoundError() from None
        if item.read_at is None and self._mark(tenant_id, pk, [item], now):
            item.read_at = to_rfc3339(now)
        return item

    def mark_all_read(self, tenant_id: str, person_id: str, now: datetime) -> int:
        pk = inbox_pk(tenant_id, person_id)
        marked = 0
        unread = list(InboxItem.query(pk, InboxItem.SK.startswith(PREFIX), consistent_read=True,
                                      filter_condition=InboxItem.read_at.does_not_exist()))
        for start in range(0, len(unread), 50):
            chunk = unread[start:start + 50]
            if self._mark(tenant_id, pk, chunk, now):
                marked += len(chunk)
            else:  # someone read one of them meanwhile: one by one
                marked += sum(1 for item in chunk if self._mark(tenant_id, pk, [item], now))
        return marked

    @staticmethod
    def _mark(tenant_id: str, pk: str, items: list[InboxItem], now: datetime) -> bool:
        uow = UnitOfWork(tenant_id, SYSTEM, now)
        expires = int((now + timedelta(days=RETENTION_DAYS)).timestamp())
        for item in items:  # read notifications expire 90 days later; unread ones wait to be read
            uow.update(item, [InboxItem.read_at.set(to_rfc3339(now)), InboxItem.expires_at.set(expires)],
                       condition=InboxItem.read_at.does_not_exist(), on_conflict=_Done())
        uow.update(CounterItem(pk, UNREAD_SK),
                   [CounterItem.count.add(-len(items)), CounterItem.entity.set(CounterItem)])
        try:
            uow.commit()
        except _Done:
            return False  # read meanwhile
        return True

    def get_preferences(self, tenant_id: str, person_id: str) -> Preferences:
        return self.preferences(tenant_id, [person_id]).get(person_id, Preferences())

    def set_preferences(self, tenant_id: str, person_id: str, muted_channels: list[str], muted_events: list[str],
                        now: datetime) -> Preferences:
        PreferencesItem(inbox_pk(tenant_id, person_id), PREFS_SK, muted_channels=sorted(set(muted_channels)),
                        muted_events=sorted(set(muted_events)), updated_at=to_rfc3339(now)).save()
        return Preferences(frozenset(muted_channels), frozenset(muted_events))
