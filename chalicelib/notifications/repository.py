"""The inbox, the preferences and the delivery claims in the single table.

Inbox: one partition per person, ``T#<tenant>#INBOX#<person id>``: notifications under
``N#<event token>`` (one per event, so a redelivered event writes nothing twice; newest first),
the unread counter under ``UNREAD`` (sorts after every ``N#``, so a newest-first Query returns it
first — the first page and the badge count in one round trip) and the preferences under ``PREFS``.
A notification expires 90 days after it is read, never while unread, so the counter cannot drift.

Claims: ``T#<tenant>#NOTIFY#<event id>`` / ``<person id>#<channel>``, put only if absent.

Holds (quiet hours, :mod:`chalicelib.notifications.holds`): ``T#<tenant>#NHOLD`` / ``<event id>``, put only if
absent, in the DueIndex under the minute the hold ends; they expire a day after it, should no sweep let them go.
"""
from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime, timedelta

from pynamodb.attributes import ListAttribute, UnicodeAttribute
from pynamodb.exceptions import DoesNotExist, UpdateError

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.errors import LinliError
from chalicelib.core.pagination import CursorCodec
from chalicelib.core.tenancy import TenantContext
from chalicelib.notifications.domain import RETENTION_DAYS, Claim, InboxNotification, InboxPage, Preferences
from chalicelib.notifications.holds import Hold, hold_bucket
from chalicelib.storage import keys
from chalicelib.storage.table import CounterItem, DueIndex, LinliModel, save_new
from chalicelib.storage.unit_of_work import UnitOfWork

UNREAD_SK, PREFS_SK, PREFIX = "UNREAD", "PREFS", "N#"


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


class SentItem(LinliModel, discriminator="notification_sent"):
    """Claims one (event, person, channel) delivery: a redelivered event sends nothing twice."""

    message_id = UnicodeAttribute(null=True)
    sent_at = UnicodeAttribute()
    outcome = UnicodeAttribute(null=True)


def inbox_pk(tenant_id: str, person_id: str) -> str:
    """Example
    -------
    >>> inbox_pk("tnt_1", "usr_2")
    'T#tnt_1#INBOX#usr_2'
    """
    return keys.tenant_pk(tenant_id, "INBOX", person_id)


def _record(item: InboxItem) -> InboxNotification:
    return InboxNotification(notification_id=item.notification_id, event_id=item.event_id,
                             event_type=item.event_type, title=item.title, body=item.body,
                             created_at=item.created_at, ticket_id=item.ticket_id, urgent=item.urgent,
                             read_at=item.read_at, expires_at=item.expires_at)


def _item(ctx: TenantContext, person_id: str, note: InboxNotification) -> InboxItem:
    return InboxItem(inbox_pk(ctx.tenant_id, person_id), PREFIX + note.token, notification_id=note.notification_id,
                     event_id=note.event_id, event_type=note.event_type, title=note.title, body=note.body,
                     ticket_id=note.ticket_id, urgent=note.urgent, read_at=note.read_at, created_at=note.created_at,
                     expires_at=note.expires_at)


def _unread_counter(pk: str, change: int, uow: UnitOfWork) -> None:
    uow.update(CounterItem(pk, UNREAD_SK), [CounterItem.count.add(change), CounterItem.entity.set(CounterItem)])


class InboxRepository:
    """The DynamoDB :class:`~chalicelib.notifications.ports.InboxStore`."""

    def __init__(self, cursors: CursorCodec) -> None:
        self._cursors = cursors

    def stage_file(self, uow: UnitOfWork, ctx: TenantContext, person_id: str, notification: InboxNotification, *,
                   on_conflict: LinliError) -> None:
        item = _item(ctx, person_id, notification)
        uow.put(item, condition=InboxItem.PK.does_not_exist(), on_conflict=on_conflict)
        _unread_counter(item.PK, 1, uow)

    def page(self, ctx: TenantContext, person_id: str, limit: int, cursor: str | None, unread_only: bool
             ) -> InboxPage:
        pk = inbox_pk(ctx.tenant_id, person_id)
        start = self._cursors.decode(ctx.tenant_id, cursor)
        condition = InboxItem.read_at.does_not_exist() if unread_only else None
        results = LinliModel.query(pk, LinliModel.SK <= UNREAD_SK, scan_index_forward=False,
                                   limit=limit + (0 if start else 2), last_evaluated_key=start,
                                   filter_condition=condition)
        items, next_cursor = self._cursors.page(ctx.tenant_id, results)
        unread = None if start else 0
        notifications = []
        for item in items:
            if isinstance(item, CounterItem) and item.SK == UNREAD_SK:
                unread = max(0, int(item.count))
            elif isinstance(item, InboxItem):
                notifications.append(_record(item))
        return InboxPage(notifications, unread, next_cursor)

    def unread_count(self, ctx: TenantContext, person_id: str) -> int:
        try:
            return max(0, int(CounterItem.get(inbox_pk(ctx.tenant_id, person_id), UNREAD_SK).count))
        except DoesNotExist:
            return 0

    def get(self, ctx: TenantContext, person_id: str, notification_id: str) -> InboxNotification | None:
        pk, sk = inbox_pk(ctx.tenant_id, person_id), PREFIX + notification_id.removeprefix("ntf_")
        try:
            return _record(InboxItem.get(pk, sk, consistent_read=True))
        except DoesNotExist:
            return None

    def unread(self, ctx: TenantContext, person_id: str) -> list[InboxNotification]:
        return [_record(item) for item in InboxItem.query(
            inbox_pk(ctx.tenant_id, person_id), InboxItem.SK.startswith(PREFIX), consistent_read=True,
            filter_condition=InboxItem.read_at.does_not_exist())]

    def stage_mark_read(self, uow: UnitOfWork, ctx: TenantContext, person_id: str,
                        notifications: list[InboxNotification], now: datetime, *, on_conflict: LinliError) -> None:
        expires = int((now + timedelta(days=RETENTION_DAYS)).timestamp())
        pk = inbox_pk(ctx.tenant_id, person_id)
        for note in notifications:  # read notifications expire 90 days later; unread ones wait to be read
            uow.update(InboxItem(pk, PREFIX + note.token),
                       [InboxItem.read_at.set(to_rfc3339(now)), InboxItem.expires_at.set(expires)],
                       condition=InboxItem.read_at.does_not_exist(), on_conflict=on_conflict)
        _unread_counter(pk, -len(notifications), uow)

    def preferences(self, ctx: TenantContext, person_ids: list[str]) -> dict[str, Preferences]:
        """Preferences of several people in one BatchGetItem (absent = nothing muted)."""
        found: dict[str, Preferences] = {}
        wanted = [(inbox_pk(ctx.tenant_id, p), PREFS_SK) for p in dict.fromkeys(person_ids)]
        for item in PreferencesItem.batch_get(wanted) if wanted else []:
            person = item.PK.rsplit("#", 1)[1]
            found[person] = Preferences(frozenset(item.muted_channels or []), frozenset(item.muted_events or []))
        return found

    def stage_preferences(self, uow: UnitOfWork, ctx: TenantContext, person_id: str, preferences: Preferences,
                          now: datetime) -> None:
        uow.put(PreferencesItem(inbox_pk(ctx.tenant_id, person_id), PREFS_SK,
                                muted_channels=sorted(preferences.muted_channels),
                                muted_events=sorted(preferences.muted_events), updated_at=to_rfc3339(now)))


class ClaimRepository:
    """The DynamoDB :class:`~chalicelib.notifications.ports.ClaimStore`: one conditional write per step."""

    @staticmethod
    def _item(ctx: TenantContext, claim: Claim) -> SentItem:
        return SentItem(keys.tenant_pk(ctx.tenant_id, "NOTIFY", claim.event_id), f"{claim.person_id}#{claim.channel}",
                        sent_at=claim.sent_at, message_id=claim.message_id, outcome=claim.outcome)

    def claim(self, ctx: TenantContext, claim: Claim) -> bool:
        return save_new(self._item(ctx, claim))

    def stage_claim(self, uow: UnitOfWork, ctx: TenantContext, claim: Claim, *, on_conflict: LinliError) -> None:
        uow.put(self._item(ctx, claim), condition=SentItem.PK.does_not_exist(), on_conflict=on_conflict)

    def take_over(self, ctx: TenantContext, claim: Claim, *, stale_before: str) -> bool:
        try:
            self._item(ctx, claim).update(actions=[SentItem.sent_at.set(claim.sent_at)],
                                          condition=SentItem.outcome.does_not_exist()
                                          & (SentItem.sent_at < stale_before))
        except UpdateError:
            return False
        return True

    def record_outcome(self, ctx: TenantContext, claim: Claim) -> None:
        self._item(ctx, claim).save()

    def record_outcomes(self, outcomes: Sequence[tuple[TenantContext, Claim]]) -> None:
        """BatchWriteItem, 25 a call (PynamoDB resends what DynamoDB leaves unprocessed)."""
        with SentItem.batch_write() as batch:
            for ctx, claim in outcomes:
                batch.save(self._item(ctx, claim))

    def release(self, ctx: TenantContext, claim: Claim) -> None:
        self._item(ctx, claim).delete()


class HoldItem(LinliModel, discriminator="notification_hold"):
    """An event held for the end of quiet hours (see :mod:`chalicelib.notifications.holds`)."""

    event = UnicodeAttribute()  # the event message, JSON
    release_at = UnicodeAttribute()
    due_bucket = UnicodeAttribute()
    due_at = UnicodeAttribute()  # <release_at>#<tenant_id>#<event_id>
    by_due = DueIndex()


HOLD_SLACK = timedelta(days=1)


class HoldRepository:
    """The DynamoDB :class:`~chalicelib.notifications.holds.HoldStore`."""

    def hold(self, hold: Hold) -> bool:
        release = from_rfc3339(hold.release_at)
        item = HoldItem(keys.tenant_pk(hold.tenant_id, "NHOLD"), hold.event_id,
                        event=json.dumps(hold.event, ensure_ascii=False, separators=(",", ":")),
                        release_at=hold.release_at, due_bucket=hold_bucket(release),
                        due_at=f"{hold.release_at}#{hold.tenant_id}#{hold.event_id}",
                        expires_at=int((release + HOLD_SLACK).timestamp()))
        return save_new(item)

    def due(self, bucket: str, until: str) -> tuple[list[Hold], int]:
        """One Query of the bucket (keys and due times only), then one BatchGetItem for the events."""
        results = HoldItem.by_due.query(bucket, HoldItem.due_at <= until + "~")
        wanted = []
        for index_item in results:
            _, tenant_id, event_id = index_item.due_at.split("#")
            wanted.append((keys.tenant_pk(tenant_id, "NHOLD"), event_id))
        holds = []
        for item in HoldItem.batch_get(wanted) if wanted else []:
            _, tenant_id, event_id = item.due_at.split("#")
            holds.append(Hold(tenant_id, event_id, item.release_at, json.loads(item.event)))
        holds.sort(key=lambda h: (h.release_at, h.event_id))
        return holds, results.page_iter.total_scanned_count

    def release(self, hold: Hold) -> None:
        HoldItem(keys.tenant_pk(hold.tenant_id, "NHOLD"), hold.event_id).delete()
