"""The in-app inbox and notification preferences of whoever is signed in (staff or resident)."""
from __future__ import annotations

from typing import TYPE_CHECKING

from chalicelib.core.clock import utcnow
from chalicelib.core.errors import ForbiddenError, ValidationFailedError
from chalicelib.core.http import Call, ModelRefs, api
from chalicelib.core.tenancy import TenantContext
from chalicelib.core.wiring import Provided

if TYPE_CHECKING:  # models and services load on first use, keeping cold starts small
    from chalicelib.notifications.domain import InboxNotification
    from chalicelib.notifications.inbox import InboxService
    from chalicelib.notifications.schemas import (
        InboxPage,
        MarkedOut,
        NotificationOut,
        PreferencesOut,
        UnreadCountOut,
    )

bp = api.blueprint(__name__)
schemas = ModelRefs("chalicelib.notifications.schemas")
TAGS = ("inbox",)
inbox: Provided[InboxService] = Provided("inbox")


def _person(ctx: TenantContext) -> str:
    """Only people have an inbox: a staff member or a resident, never an API key."""
    if ctx.principal.kind not in ("staff", "resident"):
        raise ForbiddenError("Integrations have no inbox; use webhooks.")
    return ctx.principal.id


def _out(item: InboxNotification) -> NotificationOut:
    from chalicelib.notifications.schemas import NotificationOut

    return NotificationOut(id=item.notification_id, event_id=item.event_id, event_type=item.event_type,
                           title=item.title, body=item.body, ticket_id=item.ticket_id, urgent=item.urgent == "true",
                           read=item.read_at is not None, read_at=item.read_at, created_at=item.created_at)


@api.route(bp, "GET", "/v1/me/notifications", auth="any", query=schemas.InboxQuery, response=schemas.InboxPage,
           tags=TAGS, summary="My in-app inbox, newest first, with the unread count on the first page")
def my_notifications(call: Call) -> InboxPage:
    from chalicelib.notifications.schemas import InboxPage

    page = inbox().page(call.tenant, _person(call.tenant), call.query.limit, call.query.cursor, call.query.unread)
    return InboxPage(items=[_out(i) for i in page.items], unread_count=page.unread_count,
                     next_cursor=page.next_cursor)


@api.route(bp, "GET", "/v1/me/notifications/unread-count", auth="any", response=schemas.UnreadCountOut, tags=TAGS,
           summary="How many of my notifications are unread (the badge)")
def my_unread_count(call: Call) -> UnreadCountOut:
    from chalicelib.notifications.schemas import UnreadCountOut

    return UnreadCountOut(unread_count=inbox().unread_count(call.tenant, _person(call.tenant)))


@api.route(bp, "POST", "/v1/me/notifications/{notification_id}/read", auth="any", response=schemas.NotificationOut,
           tags=TAGS, summary="Mark one notification read (again is harmless)")
def mark_read(call: Call) -> NotificationOut:
    item = inbox().mark_read(call.tenant, _person(call.tenant), call.path["notification_id"], utcnow())
    return _out(item)


@api.route(bp, "POST", "/v1/me/notifications/read-all", auth="any", response=schemas.MarkedOut, tags=TAGS,
           summary="Mark every notification read")
def mark_all_read(call: Call) -> MarkedOut:
    from chalicelib.notifications.schemas import MarkedOut

    return MarkedOut(marked=inbox().mark_all_read(call.tenant, _person(call.tenant), utcnow()))


@api.route(bp, "GET", "/v1/me/notification-preferences", auth="any", response=schemas.PreferencesOut, tags=TAGS,
           summary="Which channels and events I have muted")
def my_preferences(call: Call) -> PreferencesOut:
    from chalicelib.notifications.schemas import PreferencesOut

    prefs = inbox().get_preferences(call.tenant, _person(call.tenant))
    return PreferencesOut(muted_channels=sorted(prefs.muted_channels), muted_events=sorted(prefs.muted_events))


@api.route(bp, "PUT", "/v1/me/notification-preferences", auth="any", body=schemas.PreferencesIn,
           response=schemas.PreferencesOut, tags=TAGS, summary="Mute channels (SMS, WeChat, e-mail) or event types")
def set_my_preferences(call: Call) -> PreferencesOut:
    from chalicelib.events.catalogue import CATALOGUE
    from chalicelib.notifications.schemas import PreferencesOut

    unknown = [e for e in call.body.muted_events if e not in CATALOGUE or not CATALOGUE[e].notify]
    if unknown:
        raise ValidationFailedError(details=[{"field": "muted_events", "type": "unknown_event_type",
                                              "message": f"Not notification events: {', '.join(unknown)}"}])
    prefs = inbox().set_preferences(call.tenant, _person(call.tenant), call.body.muted_channels,
                                    call.body.muted_events, utcnow())
    return PreferencesOut(muted_channels=sorted(prefs.muted_channels), muted_events=sorted(prefs.muted_events))
