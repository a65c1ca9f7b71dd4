"""The outbox read back from the table: event items by when they occurred.

Only the replay of the dispatcher's dead letters reads it, once the stream no longer holds a failed batch: a Scan
(an operator's rare repair after an alarm, never on a request path), filtered to event items in a time window and
projected to the event's own attributes — the only ones the replay function's IAM policy lets it read.
"""
from __future__ import annotations

from typing import Any

from chalicelib.storage.unit_of_work import EventItem

EVENT_ATTRIBUTES = ("PK", "SK", "entity", "event_id", "type", "tenant_id", "subject_type", "subject_id",
                    "subject_version", "occurred_at", "actor", "changes", "data", "folded")


class OutboxRepository:
    """The DynamoDB :class:`~chalicelib.events.replay.OutboxEvents`."""

    def records_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Stream-shaped records of the event items that occurred in [start, end] (RFC 3339, as stored), oldest
        first: what the stream carried when they were written (``INSERT``, the ``NewImage``)."""
        scan = EventItem.scan(EventItem.occurred_at.between(start, end), attributes_to_get=list(EVENT_ATTRIBUTES))
        items = sorted(scan, key=lambda item: (item.occurred_at, item.SK))
        return [{"eventName": "INSERT", "eventSource": "linli:outbox",
                 "dynamodb": {"Keys": {"PK": {"S": item.PK}, "SK": {"S": item.SK}}, "NewImage": item.serialize(),
                              "SequenceNumber": f"{item.PK}|{item.SK}"}}
                for item in items]
