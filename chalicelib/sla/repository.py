"""A per-minute sweep's own state: the last minute bucket it has read (one platform-wide item per sweep: the SLA
sweep's, and the notification hold sweep's, which bootstrap gives its own key)."""
from __future__ import annotations

from datetime import datetime

from pynamodb.attributes import UnicodeAttribute
from pynamodb.exceptions import DoesNotExist

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.storage.table import LinliModel

SWEEP_PK, SWEEP_SK = "SWEEP#SLA", "STATE"
HOLD_SWEEP_PK = "SWEEP#HOLD"


class SweepStateItem(LinliModel, discriminator="sweep_state"):
    """Platform-wide: the last minute bucket a sweep has read."""

    last_minute = UnicodeAttribute()


class SweepStateRepository:
    def __init__(self, pk: str = SWEEP_PK) -> None:
        self.pk = pk

    def last_minute(self) -> datetime | None:
        try:
            return from_rfc3339(SweepStateItem.get(self.pk, SWEEP_SK, consistent_read=True).last_minute)
        except DoesNotExist:
            return None

    def save_last_minute(self, minute: datetime) -> None:
        SweepStateItem(self.pk, SWEEP_SK, last_minute=to_rfc3339(minute)).save()
