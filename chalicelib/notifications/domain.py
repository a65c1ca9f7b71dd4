"""The records of notifications: inbox entries, preferences, delivery claims and the people they reach. Pure.

Field names are those of the stored items (``chalicelib.notifications.repository``), so code that
reads an inbox entry or a claim reads the same attribute names whichever side gave it.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

RETENTION_DAYS = 90  # a read notification expires 90 days after reading; an unread one never


@dataclass(frozen=True)
class Preferences:
    """What one person muted (absent preferences mute nothing)."""

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


@dataclass(frozen=True)
class InboxNotification:
    """One entry of a person's in-app inbox: one per event (``ntf_<event token>``)."""

    notification_id: str
    event_id: str
    event_type: str
    title: str
    body: str
    created_at: str
    ticket_id: str | None = None
    urgent: str | None = None  # "true" for pages; absent otherwise (as stored)
    read_at: str | None = None
    expires_at: int | None = None

    @property
    def token(self) -> str:
        """The event token the entry is keyed by (newest sorts last).

        Example
        -------
        >>> InboxNotification("ntf_01AB", "evt_01AB", "ticket.created", "t", "b", "2026-11-27T00:00:00.000Z").token
        '01AB'
        """
        return self.notification_id.removeprefix("ntf_")


def notification_for(event: dict[str, Any], title: str, body: str, created_at: str, *,
                     urgent: bool = False) -> InboxNotification:
    """The inbox entry an event files (keyed by the event, so a redelivered event files nothing twice).

    Example
    -------
    >>> note = notification_for({"id": "evt_01", "type": "ticket.resolved", "subject": {"type": "ticket",
    ...                          "id": "tkt_1"}}, "26112700001", "修好了", "2026-11-27T00:00:00.000Z")
    >>> note.notification_id, note.ticket_id, note.urgent
    ('ntf_01', 'tkt_1', None)
    """
    token = event["id"].removeprefix("evt_")
    subject = event.get("subject") or {}
    return InboxNotification(notification_id=f"ntf_{token}", event_id=event["id"], event_type=event["type"],
                             title=title, body=body, created_at=created_at,
                             ticket_id=subject.get("id") if subject.get("type") == "ticket" else None,
                             urgent="true" if urgent else None)


@dataclass(frozen=True)
class InboxPage:
    """A page of an inbox, newest first; the unread count comes with the first page only."""

    items: list[InboxNotification]
    unread_count: int | None
    next_cursor: str | None


@dataclass(frozen=True)
class Claim:
    """The claim on one (event, person, channel) message: taken before sending, so nothing goes twice.

    ``outcome`` is ``None`` while the message is being sent, ``"sent"`` or ``"refused: …"`` after.
    """

    event_id: str
    person_id: str
    channel: str
    sent_at: str
    message_id: str | None = None
    outcome: str | None = None


@dataclass(frozen=True)
class Person:
    """Someone a notification can reach, with the addresses they have."""

    kind: str  # staff | resident
    id: str
    phone: str | None = None
    email: str | None = None
    openid: str | None = None
