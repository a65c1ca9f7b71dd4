"""Event-source emulation for the embedded stack: what Lambda's pollers do in AWS.

- DynamoDB stream → a handler, in order, with the infra filter applied, retrying from the
  first failed record (``ReportBatchItemFailures``).
- SQS → a handler, in batches: successes are deleted, reported failures stay (redelivered
  after the visibility timeout, moved to the DLQ by the queue's redrive policy).
- Schedules → a function every N seconds.
"""
from __future__ import annotations

import json
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chalicelib.core.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass
class LambdaContext:
    function_name: str
    memory_limit_in_mb: int = 1024
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    invoked_function_arn: str = "arn:aws:lambda:local:000000000000:function:linli"
    log_group_name: str = "/aws/lambda/linli-local"
    log_stream_name: str = "local"

    def get_remaining_time_in_millis(self) -> int:
        return 60_000


def matches(pattern: Any, value: Any) -> bool:
    """Lambda event-filter matching for the subset infra uses: nested objects and value lists."""
    if isinstance(pattern, dict):
        return isinstance(value, dict) and all(k in value and matches(p, value[k]) for k, p in pattern.items())
    if isinstance(pattern, list):
        return value in pattern
    return pattern == value


def _failed_ids(response: Any) -> set[str] | None:
    if isinstance(response, dict) and "batchItemFailures" in response:
        return {f["itemIdentifier"] for f in response["batchItemFailures"]}
    return set()


class StreamPoller:
    """Reads every shard of a table's stream from TRIM_HORIZON and feeds the handler."""

    def __init__(self, session: Any, stream_arn: str, handler: Handler, *, batch_size: int = 100,
                 filters: list[dict[str, Any]] | None = None, retry_delay: float = 0.5, max_retries: int = 50,
                 name: str = "event_dispatcher") -> None:
        self._streams = session.client("dynamodbstreams")
        self._arn = stream_arn
        self._handler = handler
        self._batch_size = batch_size
        self._filters = filters or []
        self._retry_delay = retry_delay
        self._max_retries = max_retries
        self._name = name
        self._iterators: dict[str, str] = {}  # shard → the last sequence number read
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._attempts: dict[str, int] = {}
        self.idle_passes = 0  # passes that found nothing new and left nothing pending (tests wait on it)

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self._filters or any(matches(f, record) for f in self._filters)

    def poll_once(self) -> int:
        """One pass over all shards; returns how many records were handed to the handler."""
        delivered = 0
        shards = self._streams.describe_stream(StreamArn=self._arn)["StreamDescription"]["Shards"]
        for shard in shards:
            shard_id = shard["ShardId"]
            self._pending.setdefault(shard_id, [])
            if len(self._pending[shard_id]) < self._batch_size:
                # A fresh iterator after the last record read, every pass: moto restores a table (stream
                # included) from a copy when a transaction is cancelled, which strands long-lived iterators.
                last = self._iterators.get(shard_id)
                iterator = self._streams.get_shard_iterator(
                    StreamArn=self._arn, ShardId=shard_id,
                    **({"ShardIteratorType": "AFTER_SEQUENCE_NUMBER", "SequenceNumber": last} if last
                       else {"ShardIteratorType": "TRIM_HORIZON"}))["ShardIterator"]
                records = self._streams.get_records(ShardIterator=iterator, Limit=1000).get("Records", [])
                if records:
                    self._iterators[shard_id] = records[-1]["dynamodb"]["SequenceNumber"]
                self._pending[shard_id].extend(r for r in records if self._wanted(r))
            delivered += self._deliver(shard_id)
        if not delivered and not any(self._pending.values()):
            self.idle_passes += 1
        return delivered

    def _deliver(self, shard_id: str) -> int:
        pending = self._pending[shard_id]
        if not pending:
            return 0
        batch = pending[: self._batch_size]
        try:
            failed = _failed_ids(self._handler({"Records": batch}, LambdaContext(self._name)))
        except Exception:  # a crashing handler fails the whole batch, exactly as Lambda does
            logger.exception("stream handler failed", extra={"handler": self._name})
            failed = {batch[0]["dynamodb"]["SequenceNumber"]}
        if not failed:
            del pending[: len(batch)]
            self._attempts.pop(shard_id, None)
            return len(batch)
        first = min(i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed)
        del pending[:first]
        self._attempts[shard_id] = self._attempts.get(shard_id, 0) + 1
        if self._attempts[shard_id] > self._max_retries:
            logger.error("stream record dropped after retries", extra={"handler": self._name})
            del pending[:1]
            self._attempts.pop(shard_id, None)
        time.sleep(self._retry_delay)
        return first


class QueuePoller:
    """Receives batches from one queue and applies Lambda's SQS semantics."""

    def __init__(self, session: Any, queue_url: str, handler: Handler, *, batch_size: int = 10,
                 wait_seconds: int = 1, failure_visibility_seconds: int | None = None, name: str = "consumer") -> None:
        self._sqs = session.client("sqs")
        self._url = queue_url
        self._handler = handler
        self._batch_size = batch_size
        self._wait = wait_seconds
        self._failure_visibility = failure_visibility_seconds
        self._name = name
        self._arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    def poll_once(self) -> int:
        messages = self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=self._batch_size, WaitTimeSeconds=self._wait,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])
        if not messages:
            return 0
        records = [self._record(m) for m in messages]
        try:
            failed = _failed_ids(self._handler({"Records": records}, LambdaContext(self._name)))
        except Exception:  # the whole batch returns to the queue, exactly as Lambda does
            logger.exception("queue handler failed", extra={"handler": self._name})
            failed = {r["messageId"] for r in records}
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self._sqs.delete_message_batch(QueueUrl=self._url, Entries=[
                {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)])
        if self._failure_visibility is not None:
            for message in messages:
                if message["MessageId"] in failed:
                    self._sqs.change_message_visibility(QueueUrl=self._url, ReceiptHandle=message["ReceiptHandle"],
                                                        VisibilityTimeout=self._failure_visibility)
        return len(done)

    def _record(self, message: dict[str, Any]) -> dict[str, Any]:
        attributes = {k: {"stringValue": v.get("StringValue"), "dataType": v.get("DataType")}
                      for k, v in (message.get("MessageAttributes") or {}).items()}
        return {"messageId": message["MessageId"], "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"], "attributes": message.get("Attributes", {}),
                "messageAttributes": attributes, "md5OfBody": message.get("MD5OfBody"),
                "eventSource": "aws:sqs", "eventSourceARN": self._arn, "awsRegion": "local"}


class Emulator:
    """Runs pollers and schedules on background threads until stopped."""

    def __init__(self, idle_sleep: float = 0.2) -> None:
        self._loops: list[tuple[str, Callable[[], int], float]] = []
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._idle_sleep = idle_sleep

    def add_poller(self, name: str, poller: StreamPoller | QueuePoller) -> None:
        self._loops.append((name, poller.poll_once, self._idle_sleep))

    def add_schedule(self, name: str, function: Callable[[], Any], interval_seconds: float) -> None:
        def tick() -> int:
            function()
            return 0
        self._loops.append((name, tick, interval_seconds))

    def start(self) -> None:
        for name, step, pause in self._loops:
            thread = threading.Thread(target=self._run, args=(name, step, pause), name=f"emulator-{name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, name: str, step: Callable[[], int], pause: float) -> None:
        while not self._stop.is_set():
            try:
                worked = step()
            except Exception:  # keep the loop alive; the emulator must outlive one bad poll
                logger.exception("emulator loop error", extra={"loop": name})
                worked = 0
            if not worked:
                self._stop.wait(pause)

    def stop(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join(timeout=5)


def stream_filters(mapping_properties: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(f["Pattern"]) for f in mapping_properties.get("FilterCriteria", {}).get("Filters", [])]
