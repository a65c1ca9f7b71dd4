"""Request and response models of the webhooks routes."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import ConfigDict, Field

from chalicelib.core.pagination import ListQuery
from chalicelib.core.schema import Request, Schema

EventTypes = list[str]


class WebhookIn(Request):
    url: str = Field(min_length=8, max_length=2048)
    description: str = Field("", max_length=200)
    event_types: EventTypes = Field(default_factory=list, max_length=50)
    enabled: bool = True


class WebhookPatch(Request):
    url: str | None = Field(None, min_length=8, max_length=2048)
    description: str | None = Field(None, max_length=200)
    event_types: EventTypes | None = Field(None, max_length=50)
    enabled: bool | None = None


class WebhookOut(Schema):
    id: str
    url: str
    description: str
    event_types: list[str]
    enabled: bool
    disabled_reason: str | None = None
    disabled_at: str | None = None
    failing_since: str | None = None
    secret_hint: str
    rotating_until: str | None = None
    created_at: str
    updated_at: str
    version: int


class WebhookSecretOut(WebhookOut):
    secret: str = Field(description="whsec_… — shown once; verify signatures with it")


class WebhookPage(Schema):
    items: list[WebhookOut]
    next_cursor: str | None = None


class AttemptOut(Schema):
    attempt: int
    at: str
    status_code: int | None = None
    latency_ms: int | None = None
    response_excerpt: str | None = None
    error: str | None = None
    manual: bool = False


class DeliveryOut(Schema):
    id: str
    webhook_id: str = Field(description="The webhook-id header: the same on every attempt and replay")
    event_type: str
    status: Literal["pending", "succeeded", "failed"]
    attempts: list[AttemptOut]
    next_attempt_at: str | None = None
    created_at: str
    payload: dict[str, Any]


class DeliveryPage(Schema):
    items: list[DeliveryOut]
    next_cursor: str | None = None


class EventTypeOut(Schema):
    type: str
    version: int
    summary: str
    schema_: dict[str, Any] = Field(alias="schema", serialization_alias="schema")


class EventTypeList(Schema):
    items: list[EventTypeOut]


class DeliveryQuery(ListQuery):
    status: Literal["pending", "succeeded", "failed"] | None = None


class RotateQuery(Schema):
    """``?expire_previous=true``: the replaced secret stops signing now (a leaked secret), not in 24 hours."""

    model_config = ConfigDict(extra="ignore")

    expire_previous: bool = Field(False, description="Stop the replaced secret signing at once instead of "
                                                     "keeping it beside the new one for 24 hours")
