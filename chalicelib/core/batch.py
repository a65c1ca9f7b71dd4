"""SQS consumers: one body handler per record, Powertools' partial-batch reporting around it."""
from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

Handle = Callable[[dict[str, Any], datetime], Any]


def consume_sqs(event: dict[str, Any], context: Any, handle: Handle) -> dict[str, Any]:
    """Call ``handle(body, now)`` for each record; the records that raise are reported as batch item
    failures (``ReportBatchItemFailures``), so only they come back."""
    import json

    from aws_lambda_powertools.utilities.batch import BatchProcessor, EventType, process_partial_response

    from chalicelib.core.clock import utcnow

    def record_handler(record):  # noqa: ANN001, ANN202 - Powertools passes the record by this name
        return handle(json.loads(record.body), utcnow())

    return process_partial_response(event=event, record_handler=record_handler,
                                    processor=BatchProcessor(event_type=EventType.SQS), context=context)


def bodies(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The JSON object bodies of an SQS batch's records, for a consumer that reads ahead for the whole batch (a
    body that is not one is left out here: ``consume_sqs`` reports it as the record's failure).

    Example
    -------
    >>> bodies({"Records": [{"body": '{"id": "evt_1"}'}, {"body": "not json"}, {"body": "[1]"}]})
    [{'id': 'evt_1'}]
    """
    import json

    out = []
    for record in event.get("Records") or []:
        try:
            body = json.loads(record.get("body") or "")
        except ValueError:
            continue
        if isinstance(body, dict):
            out.append(body)
    return out
