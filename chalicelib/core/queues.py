"""SQS helpers shared by every producer: how long a message may wait, and a sender bound to one queue."""
from __future__ import annotations

import json
import math
from collections.abc import Callable
from typing import Any

SQS_MAX_DELAY = 900  # SQS holds a message at most 15 minutes; longer waits hop (the consumer re-queues)
Send = Callable[[dict[str, Any], int], None]


def sqs_delay(seconds: float) -> int:
    """Whole seconds SQS can delay a message for: rounded up, clamped to 0…900.

    Example
    -------
    >>> sqs_delay(4.2), sqs_delay(-3), sqs_delay(7200)
    (5, 0, 900)
    """
    return max(0, min(SQS_MAX_DELAY, math.ceil(seconds)))


def sqs_sender(queue_url: str, client: Any) -> Send:
    """``send(body, delay_seconds)`` onto one queue (the delay clamped to what SQS allows)."""
    def send(body: dict[str, Any], delay: int) -> None:
        client.send_message(QueueUrl=queue_url, MessageBody=json.dumps(body), DelaySeconds=sqs_delay(delay))
    return send
