"""The base of every pydantic model: validators are built on first use, not at import (cold starts)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Request(Schema):
    """Request bodies: unknown fields are dropped (never persisted), never trusted."""

    model_config = ConfigDict(defer_build=True, extra="ignore", str_strip_whitespace=True)
