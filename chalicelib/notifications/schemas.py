"""Models of the inbox and preferences routes."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import Field, WithJsonSchema

from chalicelib.core.pagination import ListQuery
from chalicelib.core.schema import Request, Schema
from chalicelib.events.catalogue import CATALOGUE

NOTIFYING_EVENTS = sorted(name for name, spec in CATALOGUE.items() if spec.notify)  # what a person may mute


class InboxQuery(ListQuery):
    unread: bool = False


class NotificationOut(Schema):
    id: str
    event_id: str
    event_type: str
    title: str
    body: str
    ticket_id: str | None = None
    urgent: bool = False
    read: bool
    read_at: str | None = None
    created_at: str


class InboxPage(Schema):
    items: list[NotificationOut]
    unread_count: int | None = Field(None, description="On the first page (no cursor) only")
    next_cursor: str | None = None


class UnreadCountOut(Schema):
    unread_count: int


class MarkedOut(Schema):
    marked: int


class PreferencesIn(Request):
    muted_channels: list[Literal["sms", "wechat", "email"]] = Field(default_factory=list, max_length=3)
    muted_events: list[Annotated[str, WithJsonSchema({"type": "string", "enum": NOTIFYING_EVENTS})]] = Field(
        default_factory=list, max_length=50)


class PreferencesOut(Schema):
    muted_channels: list[str]
    muted_events: list[str]
    note: str = "The in-app inbox always receives everything; emergency pages reach on-duty supervisors regardless."
