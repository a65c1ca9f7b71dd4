"""Outbox relay and event-source emulation against moto: nothing lost, failures isolated, poison to DLQ."""
from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import datetime, timezone

import boto3
import pytest

from chalicelib.core.ids import new_id
from chalicelib.events.catalogue import Queue
from chalicelib.events.dispatcher import batch_sender, dispatch
from chalicelib.storage.unit_of_work import UnitOfWork
from devstack.emulator import Emulator, QueuePoller, StreamPoller, queue_mapping_options, stream_filters
from devstack.resources import create_resources, event_source_settings

NOW = datetime(2026, 11, 27, 9, 0, tzinfo=timezone.utc)


def _session():
    return boto3.session.Session()


def _fresh_queues(stack):
    return create_resources(_session(), stack.table_name, prefix=f"it-{uuid.uuid4().hex[:8]}")


def _drain(sqs, url, *, rounds=5):
    bodies = []
    for _ in range(rounds):
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10, WaitTimeSeconds=0).get("Messages", [])
        for message in messages:
            bodies.append(json.loads(message["Body"]))
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])
        if not messages:
            break
    return bodies


def _record_events(tenant_id: str, count: int, event_type: str = "ticket.created") -> list[str]:
    ids = []
    for n in range(count):
        uow = UnitOfWork(tenant_id, {"type": "system", "id": "test", "role": None}, NOW)
        event = uow.record(event_type, subject=("ticket", f"tkt_{n}"),
                           data={"n": n, "title": "水管漏水", "number": f"26112700{n:03d}", "kind": "repair"})
        uow.commit()
        ids.append(event.event_id)
    return ids


def test_events_written_while_no_dispatcher_runs_are_all_delivered_once_it_starts(stack):
    resources = _fresh_queues(stack)
    tenant_id = new_id("tnt")
    written = _record_events(tenant_id, 12)
    urls = {Queue(name): url for name, url in resources.queue_urls.items()}
    mapping = event_source_settings("EventDispatcherStreamMapping")
    send_batch = batch_sender(boto3.client("sqs"))
    poller = StreamPoller(_session(), resources.stream_arn,
                          lambda event, _: dispatch(event, urls=urls, send_batch=send_batch),
                          batch_size=mapping["BatchSize"], filters=stream_filters(mapping))
    deadline = time.time() + 120
    while poller.idle_passes == 0 and time.time() < deadline:  # read through the shared table's whole stream:
        poller.poll_once()  # until a pass reads no record at all
    sqs = boto3.client("sqs")
    for queue in ("notifications", "webhooks"):
        mine = [b for b in _drain(sqs, resources.queue_urls[queue], rounds=200) if b["tenant_id"] == tenant_id]
        assert sorted(m["id"] for m in mine) == sorted(written), queue
        assert mine[0]["data"]["title"] == "水管漏水"


def test_dispatcher_reports_only_the_records_it_could_not_send():
    def record(n, event_type="ticket.created"):
        return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(100 + n), "NewImage": {
            "entity": {"S": "event"}, "event_id": {"S": f"evt_{n}"}, "type": {"S": event_type},
            "tenant_id": {"S": "tnt_1"}, "subject_type": {"S": "ticket"}, "subject_id": {"S": f"tkt_{n}"},
            "occurred_at": {"S": "2026-11-27T09:00:00.000Z"}, "actor": {"S": "{}"}}}}

    sent: list[str] = []

    def send_batch(url, entries):
        sent.extend(e["Id"] for e in entries)
        return ["r3"] if url == "w-url" else []

    result = dispatch({"Records": [record(n) for n in range(5)] + [record(5, "staff.created")]},
                      urls={Queue.NOTIFICATIONS: "n-url", Queue.WEBHOOKS: "w-url", Queue.SLA: "sla-url"},
                      send_batch=send_batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "103"}]}
    assert sent.count("r5") == 0  # audit-only events go nowhere
    assert len(sent) == 10


def test_dispatcher_sends_a_batch_to_its_queues_at_once_and_a_failing_send_fails_the_batch():
    """The relay waits for its slowest send, not their sum: each queue's send starts before any has returned."""
    def record(n):
        return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(100 + n), "NewImage": {
            "entity": {"S": "event"}, "event_id": {"S": f"evt_{n}"}, "type": {"S": "ticket.created"},
            "tenant_id": {"S": "tnt_1"}, "subject_type": {"S": "ticket"}, "subject_id": {"S": f"tkt_{n}"},
            "occurred_at": {"S": "2026-11-27T09:00:00.000Z"}, "actor": {"S": "{}"}}}}

    urls = {Queue.NOTIFICATIONS: "n-url", Queue.WEBHOOKS: "w-url"}
    together = threading.Barrier(4, timeout=5)  # 12 events to two queues: two sends (10 + 2) to each
    sent: dict[str, list[str]] = {}

    def send_batch(url, entries):
        together.wait()  # sent one after another, the first send would wait here for the others in vain
        sent.setdefault(url, []).extend(e["Id"] for e in entries)
        return []

    records = [record(n) for n in range(12)]
    assert dispatch({"Records": records}, urls=urls, send_batch=send_batch) == {"batchItemFailures": []}
    assert sorted(sent["n-url"]) == sorted(sent["w-url"]) == sorted(f"r{n}" for n in range(12))

    def refusing(url, entries):
        if url == "w-url":
            raise ConnectionError("SQS unreachable")
        return []

    with pytest.raises(ConnectionError):  # the stream retries the whole batch; consumers dedupe what went out
        dispatch({"Records": records[:3]}, urls=urls, send_batch=refusing)


def test_the_relay_sends_to_the_webhooks_queue_only_the_events_of_tenants_with_an_endpoint():
    def record(n, tenant_id):
        return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(100 + n), "NewImage": {
            "entity": {"S": "event"}, "event_id": {"S": f"evt_{n}"}, "type": {"S": "ticket.created"},
            "tenant_id": {"S": tenant_id}, "subject_type": {"S": "ticket"}, "subject_id": {"S": f"tkt_{n}"},
            "occurred_at": {"S": "2026-11-27T09:00:00.000Z"}, "actor": {"S": "{}"}}}}

    urls = {Queue.NOTIFICATIONS: "n-url", Queue.WEBHOOKS: "w-url"}
    batch = {"Records": [record(0, "tnt_hooked"), record(1, "tnt_quiet"), record(2, "tnt_hooked")]}
    asked: list[set[str]] = []
    sent: dict[str, list[str]] = {}

    def send_batch(url, entries):
        sent.setdefault(url, []).extend(json.loads(e["MessageBody"])["tenant_id"] for e in entries)
        return []

    def with_webhooks(tenant_ids):
        asked.append(set(tenant_ids))
        return {"tnt_hooked"} & tenant_ids

    assert dispatch(batch, urls=urls, send_batch=send_batch, tenants_with_webhooks=with_webhooks) == {
        "batchItemFailures": []}
    assert asked == [{"tnt_hooked", "tnt_quiet"}]  # once for the batch
    assert sent == {"n-url": ["tnt_hooked", "tnt_quiet", "tnt_hooked"], "w-url": ["tnt_hooked", "tnt_hooked"]}

    def unreachable(tenant_ids):
        raise ConnectionError("DynamoDB unreachable")

    sent.clear()  # a lookup that fails costs messages, never an event: the consumer reads the endpoints itself
    assert dispatch(batch, urls=urls, send_batch=send_batch, tenants_with_webhooks=unreachable) == {
        "batchItemFailures": []}
    assert sorted(sent["w-url"]) == ["tnt_hooked", "tnt_hooked", "tnt_quiet"]
    sent.clear()
    dispatch(batch, urls={Queue.NOTIFICATIONS: "n-url"}, send_batch=send_batch, tenants_with_webhooks=unreachable)
    assert list(sent) == ["n-url"]  # no webhooks queue: nobody asked


def _send(sqs, url, count):
    for start in range(0, count, 10):
        sqs.send_message_batch(QueueUrl=url, Entries=[
            {"Id": str(n), "MessageBody": json.dumps({"n": n})} for n in range(start, min(count, start + 10))])


def _run_emulator(url, concurrency, count, *, hold=0.05):
    """Send ``count`` messages, run one queue's poller with ``concurrency`` workers until all are handled; the
    handler holds each batch ``hold`` seconds. Returns (numbers handled, most batches running at once)."""
    _send(boto3.client("sqs"), url, count)
    handled: list[int] = []
    running, most, lock = [0], [0], threading.Lock()

    def handler(event, _):
        with lock:
            running[0] += 1
            most[0] = max(most[0], running[0])
        time.sleep(hold)
        with lock:
            running[0] -= 1
            handled.extend(json.loads(r["body"])["n"] for r in event["Records"])

    emulator = Emulator(idle_sleep=0.02)
    emulator.add_poller("consumer", QueuePoller(_session(), url, handler, wait_seconds=0), concurrency=concurrency)
    emulator.start()
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with lock:
                if len(handled) >= count and not running[0]:
                    break
            time.sleep(0.02)
        time.sleep(0.2)  # nothing more arrives
    finally:
        emulator.stop()
    return handled, most[0]


def test_a_queue_with_a_backlog_runs_up_to_its_maximum_concurrency_and_handles_each_message_once(stack):
    handled, most = _run_emulator(_fresh_queues(stack).queue_urls["notifications"], 4, 120)
    assert sorted(handled) == list(range(120))
    assert 1 < most <= 4


def test_a_queue_without_a_backlog_runs_one_batch_at_a_time(stack):
    url = _fresh_queues(stack).queue_urls["notifications"]
    for _ in range(3):  # a few messages at a time: never a full batch, so no extra worker starts
        handled, most = _run_emulator(url, 4, 6)
        assert sorted(handled) == list(range(6))
        assert most == 1


def test_each_consumer_runs_with_its_mappings_batch_size_window_and_concurrency():
    settings = {name: queue_mapping_options(event_source_settings(f"{name}ConsumerQueueMapping"))
                for name in ("Notifications", "Webhooks", "Sla", "Imports", "Reports")}
    assert settings == {"Notifications": {"batch_size": 10, "batching_window": 0, "concurrency": 10},
                        "Webhooks": {"batch_size": 5, "batching_window": 0, "concurrency": 10},
                        "Sla": {"batch_size": 10, "batching_window": 0, "concurrency": 5},
                        "Imports": {"batch_size": 1, "batching_window": 0, "concurrency": 5},
                        "Reports": {"batch_size": 100, "batching_window": 5, "concurrency": 5}}


def _batches(url, *, batch_size, window):
    batches: list[list[int]] = []
    poller = QueuePoller(_session(), url, lambda event, _: batches.append(
        [json.loads(r["body"])["n"] for r in event["Records"]]), batch_size=batch_size, batching_window=window,
        wait_seconds=0)
    return poller, batches


def test_a_batching_window_gathers_what_arrives_within_it_into_one_batch_of_up_to_the_batch_size(stack):
    """MaximumBatchingWindowInSeconds: once a first message is in hand, the poller gathers for up to the window (here
    2 s) while the batch is not full — across receives of at most 10 — and invokes once."""
    url = _fresh_queues(stack).queue_urls["reports"]
    sqs = boto3.client("sqs")
    poller, batches = _batches(url, batch_size=100, window=2)
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 0}))

    def later():
        time.sleep(0.6)
        for n in range(1, 26):  # 25 more, one at a time, while the window is open
            sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": n}))

    sender = threading.Thread(target=later)
    sender.start()
    started = time.monotonic()
    assert poller.poll_once() == 26
    took = time.monotonic() - started
    sender.join()
    assert [sorted(b) for b in batches] == [list(range(26))]
    assert 1.5 <= took < 5  # it waited out the window (the batch never filled), and not much longer
    assert not poller.backlogged
    _send(sqs, url, 130)  # a backlog fills a batch of 100 at once, over ten receives, without waiting
    started = time.monotonic()
    assert poller.poll_once() == 100 and poller.backlogged
    assert time.monotonic() - started < 1.5
    assert poller.poll_once() == 30
    assert sorted(n for b in batches[1:] for n in b) == list(range(130))
    assert _drain(sqs, url) == []  # every batch was deleted


def test_stopping_the_emulator_hands_over_a_batch_being_gathered_at_once(stack):
    url = _fresh_queues(stack).queue_urls["reports"]
    poller, batches = _batches(url, batch_size=100, window=30)
    _send(boto3.client("sqs"), url, 3)
    emulator = Emulator(idle_sleep=0.02)
    emulator.add_poller("reports", poller)
    emulator.start()
    time.sleep(0.5)  # its batch of 3 is open for 30 s
    started = time.monotonic()
    emulator.stop()
    assert time.monotonic() - started < 2
    assert batches == [[0, 1, 2]]


def test_without_a_window_a_batch_is_what_the_queue_holds_now(stack):
    url = _fresh_queues(stack).queue_urls["notifications"]
    sqs = boto3.client("sqs")
    poller, batches = _batches(url, batch_size=10, window=0)
    _send(sqs, url, 3)
    started = time.monotonic()
    assert poller.poll_once() == 3 and batches == [[0, 1, 2]]
    assert time.monotonic() - started < 1  # no gathering
    assert poller.poll_once() == 0 and len(batches) == 1


def _until(condition, seconds):
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and not condition():
        time.sleep(0.01)
    return condition()


def test_an_idle_poller_wakes_when_a_message_is_sent_to_its_queue_and_only_then(stack):
    """The emulator's doorbell: a poller with nothing to do waits for its queue's bell (here up to 30 s), so a
    message sent to it is handled at once, and one sent to another queue does not wake it."""
    resources = _fresh_queues(stack)
    url, other = resources.queue_urls["notifications"], resources.queue_urls["sla"]
    sqs = boto3.client("sqs")
    polls: list[int] = []
    handled: list[int] = []
    poller = QueuePoller(_session(), url, lambda event, _: handled.extend(
        json.loads(r["body"])["n"] for r in event["Records"]), wait_seconds=0)
    real_poll = poller.poll_once

    def poll_once():
        polls.append(1)
        return real_poll()

    poller.poll_once = poll_once
    emulator = Emulator(doorbell=stack._moto.doorbell, idle_seconds=30)
    emulator.add_poller("consumer", poller)
    emulator.start()
    try:
        assert _until(lambda: polls, 5)  # the first, empty, poll; then it waits
        time.sleep(0.3)
        sqs.send_message(QueueUrl=other, MessageBody=json.dumps({"n": 0}))
        time.sleep(0.3)
        assert len(polls) == 1 and handled == []  # another queue's message rang another bell
        sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"n": 1}))
        assert _until(lambda: handled == [1], 5)
        sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": "a", "MessageBody": json.dumps({"n": 2})}])
        assert _until(lambda: handled == [1, 2], 5)
    finally:
        emulator.stop()
    assert len(polls) <= 5  # one per wake (and the empty poll after each message), not one every 200 ms


def _empty_streamed_table() -> tuple[str, str]:
    """A table of its own with a stream, so an idle pass comes at once: the shared stack's table has every earlier
    test's writes in its stream, which a poller reading from TRIM_HORIZON must go through before it is idle (more
    than 10 s of it once, in CI)."""
    name = f"it-stream-{uuid.uuid4().hex[:8]}"
    table = boto3.client("dynamodb").create_table(
        TableName=name, BillingMode="PAY_PER_REQUEST",
        AttributeDefinitions=[{"AttributeName": "pk", "AttributeType": "S"}],
        KeySchema=[{"AttributeName": "pk", "KeyType": "HASH"}],
        StreamSpecification={"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"})
    return name, table["TableDescription"]["LatestStreamArn"]


def test_an_idle_stream_poller_wakes_on_an_item_write_and_a_delayed_message_is_still_seen(stack):
    resources = _fresh_queues(stack)
    table, stream_arn = _empty_streamed_table()
    dynamodb = boto3.client("dynamodb")
    seen: list[str] = []
    stream = StreamPoller(_session(), stream_arn, lambda event, _: seen.extend(
        r["dynamodb"]["NewImage"]["pk"]["S"] for r in event["Records"] if "NewImage" in r["dynamodb"]))
    delayed: list[int] = []
    url = resources.queue_urls["sla"]
    queue = QueuePoller(_session(), url, lambda event, _: delayed.extend(
        json.loads(r["body"])["n"] for r in event["Records"]), wait_seconds=0)
    # The stream's poller waits up to 30 s for its bell, so only the write's ring can wake it in time; the queue's
    # looks every 0.5 s, which is how a delayed message is found (no request rings when a delay ends).
    streams = Emulator(doorbell=stack._moto.doorbell, idle_seconds=30)
    streams.add_poller("stream", stream)
    queues = Emulator(doorbell=stack._moto.doorbell, idle_seconds=0.5)
    queues.add_poller("queue", queue)
    streams.start()
    queues.start()
    try:
        assert _until(lambda: stream.idle_passes >= 1, 10)
        time.sleep(0.2)  # into its wait
        dynamodb.put_item(TableName=table, Item={"pk": {"S": "later"}})
        assert _until(lambda: seen == ["later"], 5)
        boto3.client("sqs").send_message(QueueUrl=url, MessageBody=json.dumps({"n": 7}), DelaySeconds=1)
        assert _until(lambda: delayed == [7], 5)
    finally:
        streams.stop()
        queues.stop()
        dynamodb.delete_table(TableName=table)


def test_the_doorbell_names_the_bell_a_request_rings_and_leaves_its_body_readable():
    import io

    from devstack.aws import Doorbell

    def environ(target, body=b""):
        return {"HTTP_X_AMZ_TARGET": target, "wsgi.input": io.BytesIO(body), "CONTENT_LENGTH": str(len(body))}

    doorbell = Doorbell()
    body = json.dumps({"QueueUrl": "http://127.0.0.1:5000/000000000000/linli-notifications", "MessageBody": "x"})
    sent = environ("AmazonSQS.SendMessage", body.encode())
    assert doorbell.request(sent) == "linli-notifications"
    assert sent["wsgi.input"].read() == body.encode()  # moto reads it after
    visible = environ("AmazonSQS.ChangeMessageVisibility", b'{"QueueUrl": "http://h/1/q-dlq"}')
    assert doorbell.request(visible) == "q-dlq"
    assert doorbell.request(environ("AmazonSQS.ReceiveMessage", b'{"QueueUrl": "http://h/1/q"}')) is None
    assert doorbell.request(environ("AmazonSQS.SendMessage", b"Action=SendMessage")) == "*"  # every bell
    assert doorbell.request(environ("DynamoDB_20120810.TransactWriteItems", b"{}")) == Doorbell.STREAM
    assert doorbell.request(environ("DynamoDB_20120810.Query", b"{}")) is None
    stream = StreamPoller(boto3.session.Session(region_name="us-east-1"),
                          "arn:aws:dynamodb:us-east-1:0:table/t/stream/1", lambda event, _: None)
    assert stream.wakes_on == Doorbell.STREAM  # what a stream poller waits on is what an item write rings


def test_a_consumer_failing_one_record_of_ten_gets_only_that_one_again(stack):
    resources = _fresh_queues(stack)
    url = resources.queue_urls["notifications"]
    sqs = boto3.client("sqs")
    _send(sqs, url, 10)
    seen: list[list[int]] = []

    def handler(event, _):
        numbers = [json.loads(r["body"])["n"] for r in event["Records"]]
        seen.append(numbers)
        return {"batchItemFailures": [{"itemIdentifier": r["messageId"]} for r in event["Records"]
                                      if json.loads(r["body"])["n"] == 7 and len(seen) == 1]}

    poller = QueuePoller(_session(), url, handler, wait_seconds=0, failure_visibility_seconds=0)
    delivered = 0
    for _ in range(10):
        delivered += poller.poll_once()
        if delivered == 10:
            break
    assert sorted(seen[0]) == list(range(10))
    assert [n for batch in seen[1:] for n in batch] == [7]
    assert delivered == 10


def test_a_poison_message_reaches_the_dead_letter_queue_after_max_receives(stack):
    resources = _fresh_queues(stack)
    url, dlq = resources.queue_urls["sla"], resources.dead_letter_urls["sla"]
    max_receives = event_source_settings("SlaQueue")["RedrivePolicy"]["maxReceiveCount"]
    sqs = boto3.client("sqs")
    sqs.send_message(QueueUrl=url, MessageBody=json.dumps({"poison": True}))
    receives = []

    def handler(event, _):
        receives.extend(r["attributes"]["ApproximateReceiveCount"] for r in event["Records"])
        raise ValueError("cannot process")

    poller = QueuePoller(_session(), url, handler, wait_seconds=0, failure_visibility_seconds=0)
    for _ in range(max_receives + 3):
        poller.poll_once()
    assert len(receives) == max_receives
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [json.loads(m["Body"]) for m in dead] == [{"poison": True}]


def test_stream_poller_retries_from_the_first_failed_record_in_order(stack):
    resources = _fresh_queues(stack)
    tenant_id = new_id("tnt")
    written = _record_events(tenant_id, 6, "ticket.commented")
    delivered: list[str] = []
    failed_once: set[str] = set()

    def handler(event, _):
        failures = []
        for record in event["Records"]:
            image = record["dynamodb"]["NewImage"]
            if image["tenant_id"]["S"] != tenant_id:
                continue
            event_id = image["event_id"]["S"]
            if event_id == written[3] and event_id not in failed_once:
                failed_once.add(event_id)
                failures.append({"itemIdentifier": record["dynamodb"]["SequenceNumber"]})
                break
            delivered.append(event_id)
        return {"batchItemFailures": failures}

    mapping = event_source_settings("EventDispatcherStreamMapping")
    poller = StreamPoller(_session(), resources.stream_arn, handler, filters=stream_filters(mapping), retry_delay=0)
    deadline = time.monotonic() + 120  # through the shared table's whole stream, every earlier test's writes
    while time.monotonic() < deadline:  # (a time limit, not 50 passes of 1,000 records)
        if not poller.poll_once() and len(delivered) >= 6:
            break
    assert delivered == written


def test_the_webhooks_consumer_reports_only_its_poison_record_which_ends_in_the_dead_letter_queue(stack):
    """The real webhooks consumer, 10 records with one it cannot read: 9 handled once, the bad one redelivered
    until the queue's maxReceiveCount moves it to the DLQ."""
    import app

    resources = _fresh_queues(stack)
    url, dlq = resources.queue_urls["webhooks"], resources.dead_letter_urls["webhooks"]
    max_receives = event_source_settings("WebhooksQueue")["RedrivePolicy"]["maxReceiveCount"]
    sqs = boto3.client("sqs")
    tenant_id = new_id("tnt")  # no endpoints: an event fans out to nothing, successfully
    events = [{"id": f"evt_{n}", "type": "ticket.created", "tenant_id": tenant_id, "data": {"number": "1", "kind": "x"},
               "subject": {"type": "ticket", "id": f"tkt_{n}", "version": 1}, "occurred_at": "2026-11-27T09:00:00Z"}
              for n in range(9)]
    sqs.send_message_batch(QueueUrl=url, Entries=[{"Id": str(n), "MessageBody": json.dumps(e)}
                                                  for n, e in enumerate(events)]
                           + [{"Id": "poison", "MessageBody": "{not json"}])
    seen: list[str] = []

    def handler(event, context):
        seen.extend(r["body"][:12] for r in event["Records"])
        return app.webhooks_consumer(event, context)

    poller = QueuePoller(_session(), url, handler, wait_seconds=0, failure_visibility_seconds=0)
    for _ in range(max_receives + 3):
        poller.poll_once()
    assert seen.count("{not json") == max_receives
    assert len(seen) - max_receives == 9  # the good nine were handled once each
    dead = sqs.receive_message(QueueUrl=dlq, MaxNumberOfMessages=10).get("Messages", [])
    assert [m["Body"] for m in dead] == ["{not json"]


def test_each_event_folded_into_a_record_is_sent_and_any_unsent_one_fails_its_record():
    import json

    def record(n, folded):
        return {"eventName": "INSERT", "dynamodb": {"SequenceNumber": str(200 + n), "NewImage": {
            "entity": {"S": "event"}, "event_id": {"S": f"evt_{n}"}, "type": {"S": "ticket.acknowledged"},
            "tenant_id": {"S": "tnt_1"}, "subject_type": {"S": "ticket"}, "subject_id": {"S": f"tkt_{n}"},
            "subject_version": {"N": "2"}, "occurred_at": {"S": "2026-11-27T09:00:00.000Z"}, "actor": {"S": "{}"},
            "folded": {"S": json.dumps(folded)}}}}

    sent: dict[str, list[tuple[str, dict]]] = {}

    def send_batch(url, entries):
        sent.setdefault(url, []).extend((e["Id"], json.loads(e["MessageBody"])) for e in entries)
        return ["r1-1"] if url == "w-url" else []

    met = {"id": "evt_1b", "type": "sla.met", "data": {"clock": "first_response"}}
    started = {"id": "evt_0b", "type": "sla.started", "data": {"clock": "resolution"}}  # internal: goes nowhere
    result = dispatch({"Records": [record(0, [started]), record(1, [met])]},
                      urls={Queue.NOTIFICATIONS: "n-url", Queue.WEBHOOKS: "w-url", Queue.REPORTS: "r-url"},
                      send_batch=send_batch)
    assert result == {"batchItemFailures": [{"itemIdentifier": "201"}]}
    assert [(i, m["id"], m["type"]) for i, m in sent["w-url"]] == [
        ("r0", "evt_0", "ticket.acknowledged"), ("r1", "evt_1", "ticket.acknowledged"), ("r1-1", "evt_1b", "sla.met")]
    assert [i for i, _ in sent["n-url"]] == ["r0", "r1"]  # sla.met does not notify
    folded = dict(sent["r-url"])["r1-1"]
    assert folded["subject"] == {"type": "ticket", "id": "tkt_1", "version": None}
    assert folded["data"] == {"clock": "first_response"} and folded["occurred_at"] == "2026-11-27T09:00:00.000Z"

