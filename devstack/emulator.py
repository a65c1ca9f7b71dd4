"""Event-source emulation for the embedded stack: what Lambda's pollers do in AWS.

- DynamoDB stream → a handler, in order, with the infra filter applied, retrying from the
  first failed record (``ReportBatchItemFailures``), bisecting a failing batch, and sending what
  it gives up on (retries exhausted, record too old) to the mapping's on-failure queue in Lambda's
  format (``DDBStreamBatchInfo``).
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
from datetime import datetime, timezone
from functools import partial
from typing import Any, Protocol

from chalicelib.core.observability import logger

Handler = Callable[[dict[str, Any], Any], Any]
STREAM_BELL = "stream"  # what a stream poller waits on, and a DynamoDB item write rings (``devstack.aws.Doorbell``)


def queue_name(queue_url: str) -> str:
    """A queue's name, the last part of its URL: what a queue poller waits on and a message sent to it rings.

    >>> queue_name("http://127.0.0.1:5000/000000000000/linli-notifications")
    'linli-notifications'
    """
    return queue_url.rstrip("/").rpartition("/")[2]


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


@dataclass
class _Failing:
    """A shard whose first pending record keeps failing: the batch cap (halved by bisection), retries used (bisection
    uses none, as in Lambda) and invocations so far."""

    limit: int
    retries: int = 0
    invokes: int = 0


def _epoch(moment: Any) -> float:
    """A stream record's ``ApproximateCreationDateTime``: a datetime from boto3, epoch seconds in Lambda's events."""
    return moment.timestamp() if isinstance(moment, datetime) else float(moment)


def _iso(epoch: float, *, millis: bool = False) -> str:
    moment = datetime.fromtimestamp(epoch, timezone.utc)
    return moment.strftime("%Y-%m-%dT%H:%M:%S") + (f".{moment.microsecond // 1000:03d}Z" if millis else "Z")


def on_failure_record(batch: list[dict[str, Any]], *, shard_id: str, stream_arn: str, function_arn: str,
                      condition: str, invokes: int, crashed: bool, now: float) -> dict[str, Any]:
    """What Lambda sends a stream mapping's on-failure destination for a batch it discards: the invocation record,
    saying where the batch sits in the stream (``DDBStreamBatchInfo``), not what it holds."""
    first, last = batch[0]["dynamodb"], batch[-1]["dynamodb"]
    response: dict[str, Any] = {"statusCode": 200, "executedVersion": "$LATEST"}
    if crashed:
        response["functionError"] = "Unhandled"
    return {
        "requestContext": {"requestId": str(uuid.uuid4()), "functionArn": function_arn, "condition": condition,
                           "approximateInvokeCount": invokes},
        "responseContext": response, "version": "1.0", "timestamp": _iso(now, millis=True),
        "DDBStreamBatchInfo": {
            "shardId": shard_id, "startSequenceNumber": first["SequenceNumber"],
            "endSequenceNumber": last["SequenceNumber"],
            "approximateArrivalOfFirstRecord": _iso(_epoch(first.get("ApproximateCreationDateTime", now))),
            "approximateArrivalOfLastRecord": _iso(_epoch(last.get("ApproximateCreationDateTime", now))),
            "batchSize": len(batch), "streamArn": stream_arn},
    }


class StreamPoller:
    """Reads every shard of a table's stream from TRIM_HORIZON and feeds the handler, as the stream mapping says.

    Its batching window is not waited for: each pass hands over what a shard holds (up to the batch size), as Lambda
    does with no window. Waiting out the mapping's second before every dispatch would add it to every event of every
    test; the queue pollers do honour their mappings' windows (only the reports queue has one).

    A reported failure (``ReportBatchItemFailures``) checkpoints before the first failed record and retries the
    batch from there; a batch the handler crashes on is split in two while bisecting (``BisectBatchOnFunctionError``,
    using no retry) until the failing record is alone. After ``max_retries`` retries — or at once for records older
    than ``max_record_age_seconds`` — the batch goes to the on-failure queue in Lambda's format and the shard moves
    on (with no on-failure queue it is dropped, as Lambda does). ``max_retries`` and ``retry_delay`` may be changed
    while it runs (tests lower them).
    """

    def __init__(self, session: Any, stream_arn: str, handler: Handler, *, batch_size: int = 100,
                 filters: list[dict[str, Any]] | None = None, retry_delay: float = 0.5, max_retries: int = 50,
                 bisect: bool = False, max_record_age_seconds: int = -1, on_failure_url: str | None = None,
                 name: str = "event_dispatcher", clock: Callable[[], float] = time.time) -> None:
        self._streams = session.client("dynamodbstreams")
        self._arn = stream_arn
        self._handler = handler
        self._batch_size = batch_size
        self._filters = filters or []
        self.retry_delay = retry_delay
        self.max_retries = max_retries  # -1: until the record is too old (MaximumRetryAttempts)
        self._bisect = bisect
        self._max_age = max_record_age_seconds
        self._on_failure_url = on_failure_url
        self._sqs = session.client("sqs") if on_failure_url else None
        self._name = name
        self._function_arn = f"arn:aws:lambda:local:000000000000:function:{name}"
        self._clock = clock
        self._iterators: dict[str, str] = {}  # shard → the last sequence number read
        self._pending: dict[str, list[dict[str, Any]]] = {}
        self._failing: dict[str, _Failing] = {}
        self.wakes_on = STREAM_BELL
        self.idle_passes = 0  # passes that read no record and left nothing pending (tests and settle() wait on it)
        self.discarded = 0  # batches given up on (sent to the on-failure queue, or dropped without one)

    def _wanted(self, record: dict[str, Any]) -> bool:
        return not self._filters or any(matches(f, record) for f in self._filters)

    def poll_once(self) -> int:
        """One pass over all shards; returns how many records were handed to the handler."""
        delivered = read = 0
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
                    read += len(records)
                self._pending[shard_id].extend(r for r in records if self._wanted(r))
            delivered += self._deliver(shard_id)
        if not delivered and not read and not any(self._pending.values()):
            self.idle_passes += 1  # (a page of records the filters dropped is not idle: more may follow it)
        return delivered

    def _too_old(self, pending: list[dict[str, Any]]) -> int:
        """How many records at the head of the shard are older than the maximum record age."""
        if self._max_age < 0:
            return 0
        oldest_allowed, count = self._clock() - self._max_age, 0
        for record in pending[: self._batch_size]:
            created = record["dynamodb"].get("ApproximateCreationDateTime")
            if created is None or _epoch(created) >= oldest_allowed:
                break
            count += 1
        return count

    def _deliver(self, shard_id: str) -> int:
        pending = self._pending[shard_id]
        if not pending:
            return 0
        if stale := self._too_old(pending):
            self._give_up(shard_id, pending[:stale], "RecordAgeExceeded", crashed=False)
            return 0
        failing = self._failing.get(shard_id)
        batch = pending[: failing.limit if failing else self._batch_size]
        crashed = False
        try:
            failed = _failed_ids(self._handler({"Records": batch}, LambdaContext(self._name)))
        except Exception:  # a crashing handler fails the whole batch, exactly as Lambda does
            logger.exception("stream handler failed", extra={"handler": self._name})
            crashed, failed = True, {r["dynamodb"]["SequenceNumber"] for r in batch}
        if not failed:
            del pending[: len(batch)]
            self._failing.pop(shard_id, None)
            return len(batch)
        # (an identifier that names no record of the batch fails all of it, as in Lambda)
        first = min((i for i, r in enumerate(batch) if r["dynamodb"]["SequenceNumber"] in failed), default=0)
        if first or failing is None:  # the checkpoint moved past what succeeded: a new failing head
            del pending[:first]
            batch, failing = batch[first:], _Failing(limit=len(batch) - first)
            self._failing[shard_id] = failing
        failing.invokes += 1
        if crashed and self._bisect and len(batch) > 1:  # a function error: split the batch in two, no retry used
            failing.limit = (len(batch) + 1) // 2
        else:
            failing.retries += 1
            if 0 <= self.max_retries < failing.retries:
                self._give_up(shard_id, batch, "RetryAttemptsExhausted", crashed=crashed)
        time.sleep(self.retry_delay)
        return first

    def _give_up(self, shard_id: str, batch: list[dict[str, Any]], condition: str, *, crashed: bool) -> None:
        """Send the batch (the head of the shard) to the on-failure queue, then move past it; if the queue refuses,
        keep it (the next pass tries again)."""
        failing = self._failing.get(shard_id)
        record = on_failure_record(batch, shard_id=shard_id, stream_arn=self._arn, function_arn=self._function_arn,
                                   condition=condition, invokes=failing.invokes if failing else 0, crashed=crashed,
                                   now=self._clock())
        where = {"handler": self._name, "condition": condition, "records": len(batch),
                 "start": record["DDBStreamBatchInfo"]["startSequenceNumber"]}
        if self._sqs is None:
            logger.error("stream records dropped: no on-failure destination", extra=where)
        else:
            try:
                self._sqs.send_message(QueueUrl=self._on_failure_url, MessageBody=json.dumps(record))
            except Exception:  # never drop: the batch stays at the head of the shard
                logger.exception("on-failure destination refused a discarded batch", extra=where)
                return
            logger.warning("stream batch sent to the on-failure destination", extra=where)
        del self._pending[shard_id][: len(batch)]
        self._failing.pop(shard_id, None)
        self.discarded += 1


class QueuePoller:
    """Receives batches from one queue and applies Lambda's SQS semantics."""

    RECEIVE_LIMIT = 10  # messages one ReceiveMessage may return
    GATHER_LOOK = 0.5  # seconds between looks for more while a batching window is open

    def __init__(self, session: Any, queue_url: str, handler: Handler, *, batch_size: int = 10,
                 batching_window: float = 0.0, wait_seconds: int = 1, failure_visibility_seconds: int | None = None,
                 name: str = "consumer") -> None:
        self._sqs = session.client("sqs")
        self._url = queue_url
        self._handler = handler
        self._batch_size = batch_size
        self._window = batching_window
        self._wait = wait_seconds
        self._failure_visibility = failure_visibility_seconds
        self._name = name
        self.backlogged = False  # the last receive came back full: more is waiting (extra workers poll only then)
        self.closing = threading.Event()  # set when the emulator stops: a batch being gathered goes as it is
        self.wakes_on = queue_name(queue_url)
        self._arn = self._sqs.get_queue_attributes(QueueUrl=queue_url, AttributeNames=["QueueArn"])[
            "Attributes"]["QueueArn"]

    def _receive(self, limit: int) -> list[dict[str, Any]]:
        return self._sqs.receive_message(
            QueueUrl=self._url, MaxNumberOfMessages=min(limit, self.RECEIVE_LIMIT), WaitTimeSeconds=self._wait,
            AttributeNames=["All"], MessageAttributeNames=["All"]).get("Messages", [])

    def _gather(self) -> list[dict[str, Any]]:
        """One batch, as Lambda's poller gathers it: up to the batch size, and — once a first message is in hand —
        for up to the batching window while it is not full (``MaximumBatchingWindowInSeconds``). With no window, what
        the queue has now: a batch larger than one receive takes receives while they come back full."""
        messages = self._receive(self._batch_size)
        closes, full = time.monotonic() + self._window, len(messages) >= self.RECEIVE_LIMIT
        while messages and len(messages) < self._batch_size:
            if not full:  # the queue had no more just now: wait within the window, or invoke with what there is
                left = closes - time.monotonic()
                if left <= 0 or self.closing.wait(min(self.GATHER_LOOK, left)):
                    break
            more = self._receive(self._batch_size - len(messages))
            full = len(more) >= min(self.RECEIVE_LIMIT, self._batch_size - len(messages))
            messages.extend(more)
        return messages

    def poll_once(self) -> int:
        messages = self._gather()
        self.backlogged = len(messages) >= self._batch_size
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


def _while_backlogged(poller: QueuePoller) -> int:
    return poller.poll_once() if poller.backlogged else 0


class Doorbell(Protocol):
    """What wakes an idle poller (``devstack.aws.Doorbell``)."""

    def arm(self, key: str) -> None: ...

    def wait(self, key: str, timeout: float) -> None: ...

    def ring_all(self) -> None: ...


class Emulator:
    """Runs pollers and schedules on background threads until stopped.

    After an empty poll a poller sleeps ``idle_sleep``; given a ``doorbell`` (the emulator's, which rings when a
    request may have given a poller work), it waits for its bell instead, up to ``idle_seconds``: new work is seen at
    once, and an idle stack asks the emulator a few times a second rather than dozens."""

    def __init__(self, idle_sleep: float = 0.2, *, doorbell: Doorbell | None = None, idle_seconds: float = 1.0
                 ) -> None:
        self._loops: list[tuple[str, Callable[[], int], float, str | None]] = []
        self._queues: list[QueuePoller] = []  # told when the emulator stops (a batch being gathered goes then)
        self._threads: list[threading.Thread] = []
        self._stop = threading.Event()
        self._idle_sleep = idle_sleep
        self._doorbell = doorbell
        self._idle_seconds = idle_seconds

    def add_poller(self, name: str, poller: StreamPoller | QueuePoller, *, concurrency: int = 1) -> None:
        """Poll on a thread of its own; a queue with ``concurrency`` above 1 (its mapping's ``MaximumConcurrency``)
        gets that many workers, as Lambda runs up to that many batches of one queue at once: the first always
        polls, the others only while the last receive came back full, as Lambda scales its pollers out with the
        queue's depth and back in when it drains. (A stream is read by one worker: one batch per shard at a time.)
        """
        bell = poller.wakes_on if self._doorbell else None
        if isinstance(poller, QueuePoller):
            self._queues.append(poller)
        self._loops.append((name, poller.poll_once, self._idle_sleep, bell))
        if concurrency > 1 and not isinstance(poller, QueuePoller):
            raise ValueError("only a queue's batches run concurrently")
        # The extra workers wait on no bell: they make no call until there is a backlog, and arming the bell without
        # polling could swallow a ring meant for the first.
        for n in range(1, concurrency):
            self._loops.append((f"{name}-{n}", partial(_while_backlogged, poller), self._idle_sleep, None))

    def add_schedule(self, name: str, function: Callable[[], Any], interval_seconds: float) -> None:
        def tick() -> int:
            function()
            return 0
        self._loops.append((name, tick, interval_seconds, None))

    def start(self) -> None:
        for name, step, pause, bell in self._loops:
            thread = threading.Thread(target=self._run, args=(name, step, pause, bell), name=f"emulator-{name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _run(self, name: str, step: Callable[[], int], pause: float, bell: str | None) -> None:
        doorbell = self._doorbell if bell else None
        while not self._stop.is_set():
            if doorbell:
                doorbell.arm(bell)  # before polling: a ring while it polls is not lost
            try:
                worked = step()
            except Exception:  # keep the loop alive; the emulator must outlive one bad poll
                logger.exception("emulator loop error", extra={"loop": name})
                worked = 0
            if worked:
                continue
            if doorbell:
                doorbell.wait(bell, self._idle_seconds)
            else:
                self._stop.wait(pause)

    def stop(self) -> None:
        self._stop.set()
        for poller in self._queues:
            poller.closing.set()
        if self._doorbell:
            self._doorbell.ring_all()
        for thread in self._threads:
            thread.join(timeout=5)


def stream_filters(mapping_properties: dict[str, Any]) -> list[dict[str, Any]]:
    return [json.loads(f["Pattern"]) for f in mapping_properties.get("FilterCriteria", {}).get("Filters", [])]


def stream_mapping_options(mapping_properties: dict[str, Any]) -> dict[str, Any]:
    """A :class:`StreamPoller`'s settings as infra declares the stream mapping: batch size, filters, retries,
    bisection and maximum record age (its on-failure queue is created from the template by ``devstack.resources``).

    Example
    -------
    >>> stream_mapping_options({"BatchSize": 10, "MaximumRetryAttempts": 3, "BisectBatchOnFunctionError": True})
    {'batch_size': 10, 'filters': [], 'max_retries': 3, 'bisect': True, 'max_record_age_seconds': -1}
    """
    return {"batch_size": mapping_properties.get("BatchSize", 100), "filters": stream_filters(mapping_properties),
            "max_retries": mapping_properties.get("MaximumRetryAttempts", -1),
            "bisect": mapping_properties.get("BisectBatchOnFunctionError", False),
            "max_record_age_seconds": mapping_properties.get("MaximumRecordAgeInSeconds", -1)}


def queue_mapping_options(mapping_properties: dict[str, Any]) -> dict[str, int]:
    """A queue mapping's batch size, batching window and how many of its batches may run at once
    (``ScalingConfig``), as infra declares them.

    Example
    -------
    >>> queue_mapping_options({"BatchSize": 5, "ScalingConfig": {"MaximumConcurrency": 10}})
    {'batch_size': 5, 'batching_window': 0, 'concurrency': 10}
    """
    return {"batch_size": mapping_properties.get("BatchSize", 10),
            "batching_window": mapping_properties.get("MaximumBatchingWindowInSeconds", 0),
            "concurrency": mapping_properties.get("ScalingConfig", {}).get("MaximumConcurrency", 1)}
