"""Replay of the outbox relay's dead letters: stream batches the dispatcher gave up on → the same dispatcher again.

The stream mapping sends a batch it could not process, after its retries, to its on-failure destination (an SQS
queue). What lands there is Lambda's invocation record — where the batch sits in the stream (``DDBStreamBatchInfo``:
shard, first and last sequence number, arrival times), not the records. The replay reads the records back from the
stream while it holds them (24 h; the mapping's ``MaximumRecordAgeInSeconds`` reports a batch long before that), else
from the outbox itself — every event item that occurred in the batch's arrival window, which the table keeps — runs
them through ``dispatch`` and deletes the dead letter only once every record was sent.

Idempotent: consumers dedupe by event id (one notification claim per event, person and channel, one inbox entry per
event, one webhook delivery per endpoint and event), so a second run, a duplicate dead letter, or an event a consumer
already got (the outbox window takes in neighbours that were dispatched fine) notifies nobody twice.
"""
from __future__ import annotations

import json
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any, Protocol

from chalicelib.core.clock import from_rfc3339, to_rfc3339
from chalicelib.core.observability import logger

# An event's ``occurred_at`` is its use case's clock, read before the commit that puts it on the stream (within a
# function's timeout); arrival times are whole seconds. Reading a little wide costs nothing: consumers dedupe.
WINDOW_BEFORE = timedelta(minutes=5)
WINDOW_AFTER = timedelta(minutes=1)
CHUNK = 100  # records per dispatch call, the stream mapping's BatchSize
MIN_TIME_LEFT_MS = 10_000  # stop taking dead letters when the invocation has less than this left

Dispatch = Callable[[Mapping[str, Any]], Mapping[str, Any]]


@dataclass(frozen=True)
class DeadLetter:
    message_id: str
    receipt: str
    body: str


@dataclass(frozen=True)
class FailedBatch:
    """Where a batch the dispatcher gave up on sits in the stream (Lambda's ``DDBStreamBatchInfo``)."""

    stream_arn: str
    shard_id: str
    start: str
    end: str
    first_arrival: datetime
    last_arrival: datetime
    size: int
    condition: str

    @classmethod
    def parse(cls, body: str) -> FailedBatch | None:
        """The batch an on-failure record describes, or None when the body is not one.

        Example
        -------
        >>> FailedBatch.parse(json.dumps({"requestContext": {"condition": "RetryAttemptsExhausted"},
        ...     "DDBStreamBatchInfo": {"streamArn": "arn:s", "shardId": "shardId-1", "startSequenceNumber": "7",
        ...     "endSequenceNumber": "9", "approximateArrivalOfFirstRecord": "2026-11-27T09:00:00Z",
        ...     "approximateArrivalOfLastRecord": "2026-11-27T09:00:01Z", "batchSize": 2}})).end
        '9'
        >>> FailedBatch.parse("{not json") is None
        True
        """
        try:
            record = json.loads(body)
            info = record["DDBStreamBatchInfo"]
            return cls(str(info["streamArn"]), str(info["shardId"]), str(info["startSequenceNumber"]),
                       str(info["endSequenceNumber"]), from_rfc3339(info["approximateArrivalOfFirstRecord"]),
                       from_rfc3339(info["approximateArrivalOfLastRecord"]), int(info["batchSize"]),
                       str((record.get("requestContext") or {}).get("condition", "")))
        except (ValueError, KeyError, TypeError, AttributeError):
            return None


class DeadLetters(Protocol):
    def receive(self, limit: int) -> list[DeadLetter]: ...

    def delete(self, letter: DeadLetter) -> None: ...


class StreamRecords(Protocol):
    def read(self, batch: FailedBatch) -> list[dict[str, Any]] | None:
        """Every record of the batch's sequence range, or None once the stream no longer holds all of it."""


class OutboxEvents(Protocol):
    def records_between(self, start: str, end: str) -> list[dict[str, Any]]:
        """Stream-shaped records (``INSERT`` with the ``NewImage``) of the event items that occurred in [start, end]."""


@dataclass
class ReplayReport:
    replayed: int = 0  # dead letters whose events were all dispatched again (deleted)
    events: int = 0  # event records dispatched again
    from_outbox: int = 0  # dead letters read back from the table: the stream had trimmed them
    failing: int = 0  # still failing: kept, visible again after the queue's visibility timeout
    missing: int = 0  # neither the stream nor the outbox had the events: kept for a person to look at
    unreadable: int = 0  # not a stream batch's on-failure record: kept

    def as_dict(self) -> dict[str, int]:
        return asdict(self)


def is_event_insert(record: Mapping[str, Any]) -> bool:
    """The stream mapping's filter: new event items only.

    Example
    -------
    >>> is_event_insert({"eventName": "INSERT", "dynamodb": {"NewImage": {"entity": {"S": "event"}}}})
    True
    >>> is_event_insert({"eventName": "MODIFY", "dynamodb": {"NewImage": {"entity": {"S": "event"}}}})
    False
    """
    image = (record.get("dynamodb") or {}).get("NewImage") or {}
    return record.get("eventName") == "INSERT" and (image.get("entity") or {}).get("S") == "event"


class DispatchFailureReplay:
    """Owns the replay of the dispatcher's dead letters (an operator's command after fixing the cause)."""

    def __init__(self, letters: DeadLetters, stream: StreamRecords, outbox: OutboxEvents, dispatch: Dispatch, *,
                 chunk: int = CHUNK, window: tuple[timedelta, timedelta] = (WINDOW_BEFORE, WINDOW_AFTER)) -> None:
        self.letters, self.stream, self.outbox, self.dispatch, self.chunk = letters, stream, outbox, dispatch, chunk
        self.window = window  # how far before the first arrival and after the last the outbox is read

    def run(self, *, max_letters: int = 1000, time_left_ms: Callable[[], int] | None = None) -> ReplayReport:
        """Take dead letters until the queue has none visible, ``max_letters`` were taken or time runs short."""
        report, taken = ReplayReport(), 0
        while taken < max_letters and (time_left_ms is None or time_left_ms() > MIN_TIME_LEFT_MS):
            letters = self.letters.receive(min(10, max_letters - taken))
            if not letters:
                break
            for letter in letters:
                taken += 1
                self._replay(letter, report)
        logger.info("dispatch failures replayed", extra=report.as_dict())
        return report

    def _replay(self, letter: DeadLetter, report: ReplayReport) -> None:
        batch = FailedBatch.parse(letter.body)
        if batch is None:
            report.unreadable += 1
            logger.error("dead letter is not a stream batch record", extra={"message_id": letter.message_id})
            return
        where = {"message_id": letter.message_id, "shard_id": batch.shard_id, "start": batch.start, "end": batch.end}
        try:
            records = self.stream.read(batch)
            if not records:
                records = self.outbox.records_between(to_rfc3339(batch.first_arrival - self.window[0]),
                                                      to_rfc3339(batch.last_arrival + self.window[1]))
                report.from_outbox += bool(records)
            events = [r for r in records if is_event_insert(r)]
            if not events:
                report.missing += 1
                logger.error("dead letter: its events are in neither the stream nor the outbox", extra=where)
                return
            failed = sum(len(self.dispatch({"Records": events[i:i + self.chunk]}).get("batchItemFailures") or [])
                         for i in range(0, len(events), self.chunk))
        except Exception:  # noqa: BLE001 - whatever went wrong, this letter stays for the next run; others go on
            logger.exception("dead letter replay failed", extra=where)
            report.failing += 1
            return
        if failed:
            report.failing += 1
            logger.warning("dead letter still fails to dispatch", extra={**where, "failed_records": failed})
            return
        self.letters.delete(letter)
        report.replayed += 1
        report.events += len(events)


class SqsDeadLetters:
    """The dead-letter queue over an SQS client."""

    def __init__(self, client: Any, queue_url: str, *, wait_seconds: int = 1) -> None:
        self._client, self._url, self._wait = client, queue_url, wait_seconds

    def receive(self, limit: int) -> list[DeadLetter]:
        messages = self._client.receive_message(QueueUrl=self._url, MaxNumberOfMessages=max(1, min(limit, 10)),
                                                WaitTimeSeconds=self._wait).get("Messages", [])
        return [DeadLetter(m["MessageId"], m["ReceiptHandle"], m["Body"]) for m in messages]

    def delete(self, letter: DeadLetter) -> None:
        self._client.delete_message(QueueUrl=self._url, ReceiptHandle=letter.receipt)


class StreamBatches:
    """A failed batch's records read back from the table's stream by sequence number (a DynamoDB Streams client)."""

    def __init__(self, client: Any, *, max_pages: int = 50) -> None:
        self._client, self._max_pages = client, max_pages

    def read(self, batch: FailedBatch) -> list[dict[str, Any]] | None:
        """None when the stream cannot serve the whole range — trimmed (``TrimmedDataAccessException``), the stream
        or shard gone, or any other refusal: the outbox then serves, wider but complete."""
        start, end, found = int(batch.start), int(batch.end), []
        try:
            iterator = self._client.get_shard_iterator(
                StreamArn=batch.stream_arn, ShardId=batch.shard_id, ShardIteratorType="AT_SEQUENCE_NUMBER",
                SequenceNumber=batch.start)["ShardIterator"]
            for _ in range(self._max_pages):
                if not iterator:
                    break
                page = self._client.get_records(ShardIterator=iterator, Limit=1000)
                for record in page.get("Records", []):
                    number = int(record["dynamodb"]["SequenceNumber"])
                    if start <= number <= end:
                        found.append(record)
                    if number >= end:
                        return found
                iterator = page.get("NextShardIterator")
        except self._client.exceptions.ClientError as exc:  # every modelled error of the client is one
            logger.warning("stream cannot serve a dead letter's range", extra={
                "shard_id": batch.shard_id, "start": batch.start, "error": type(exc).__name__})
            return None
        return None  # the range's end was never reached: not all of it is there any more
