"""The models of ``dev_api`` (local stage only), apart from its routes so that registering them imports no
pydantic (the routes name them as ``"module:Name"`` references, loaded on first use)."""
from __future__ import annotations

from pydantic import ConfigDict, Field

from chalicelib.core.schema import Schema


class DevMessagesQuery(Schema):
    model_config = ConfigDict(extra="ignore")
    to: str | None = Field(None, max_length=64)
    tenant_slug: str | None = Field(None, max_length=64)


class DevMessage(Schema):
    id: str
    channel: str
    tenant_id: str
    to: str
    body: str
    template: str
    params: dict[str, str]
    sent_at: str


class DevMessagesOut(Schema):
    items: list[DevMessage]
