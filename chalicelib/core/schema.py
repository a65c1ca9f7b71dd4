"""The base of every pydantic model: validators are built on first use, not at import (cold starts)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(defer_build=True)


class Request(Schema):
    """Request bodies: unknown fields are dropped (never persisted), never trusted."""

    model_config = ConfigDict(defer_build=True, extra="ignore", str_strip_whitespace=True)


# The answer of GET /v1/openapi.json: here, not in core.openapi, so that registering the routes imports no pydantic.
class OpenApiDocument(Schema):
    """An OpenAPI 3.1 document: ``openapi``, ``info``, ``paths``, ``components``."""

    model_config = ConfigDict(defer_build=True, extra="allow")
