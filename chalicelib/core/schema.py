"""The base of every pydantic model: validators are built on first use, not at import (cold starts)."""
from __future__ import annotations

from pydantic import BaseModel, ConfigDict


class Schema(BaseModel):
    model_config = ConfigDict(defer_build=True)
