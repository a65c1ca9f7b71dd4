"""The outbox relay: DynamoDB stream records of event items → SQS queues.

At-least-once: a record whose messages could not all be sent is reported as a batch item
failure (the stream retries from it); consumers dedupe by event id.
"""
from __future__ import annotations

import json
import threading
from collections.abc import Callable, Mapping
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from chalicelib.core.observability import logger, metrics
from chalicelib.core.settings import Settings
from chalicelib.events.catalogue import Queue, queues_for

SendBatch = Callable[[str, list[dict[str, str]]], list[str]]
TenantsWithWebhooks = Callable[[set[str]], set[str]]
MAX_PARALLEL_SENDS = 8  # a batch of 100 events to four queues is up to 40 sends: eight at a time


def events_from_record(record: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The event messages carried by a stream record — the item's own event and those folded into it (see
    ``storage.unit_of_work``), in the order they were recorded — or none when the record is not a new event item."""
    from chalicelib.storage.unit_of_work import EventItem

    if record.get("eventName") != "INSERT":
        return []
    image = record.get("dynamodb", {}).get("NewImage") or {}
    if image.get("entity", {}).get("S") != "event":
        return []
    return EventItem.from_raw_data(image).to_messages()


def batch_sender(client: Any) -> SendBatch:
    """``send_batch(queue_url, entries)`` over an SQS client: up to 10 messages; the ids of those that failed.

    Example
    -------
    >>> class Sqs:
    ...     def send_message_batch(self, QueueUrl, Entries):  # noqa: N803 - boto3's names
    ...         return {"Failed": [{"Id": e["Id"]} for e in Entries if e["MessageBody"] == "bad"]}
    >>> batch_sender(Sqs())("q", [{"Id": "r0", "MessageBody": "ok"}, {"Id": "r1", "MessageBody": "bad"}])
    ['r1']
    """
    def send_batch(queue_url: str, entries: list[dict[str, str]]) -> list[str]:
        response = client.send_message_batch(QueueUrl=queue_url, Entries=entries)
        return [failure["Id"] for failure in response.get("Failed", [])]
    return send_batch


def send_all(send_batch: SendBatch, requests: list[tuple[str, list[dict[str, str]]]]) -> list[set[str]]:
    """Each ``(queue_url, entries)`` sent with ``send_batch``, all at once (a batch's events go to several queues:
    the relay waits for the slowest send, not their sum); the failed ids of each, in order. A send that raises
    raises here, once every send has returned (the stream retries the batch; consumers dedupe).

    Example
    -------
    >>> failed = send_all(lambda url, entries: [e["Id"] for e in entries if url == "w"],
    ...                   [("n", [{"Id": "r0"}]), ("w", [{"Id": "r0"}, {"Id": "r1"}])])
    >>> [sorted(ids) for ids in failed]
    [[], ['r0', 'r1']]
    """
    if len(requests) <= 1:
        return [set(send_batch(url, entries)) for url, entries in requests]
    # Named after the invoking thread, so that whatever counts calls by thread counts these as the relay's.
    with ThreadPoolExecutor(max_workers=min(len(requests), MAX_PARALLEL_SENDS),
                            thread_name_prefix=threading.current_thread().name) as pool:
        return list(pool.map(lambda request: set(send_batch(*request)), requests))


def queue_urls(settings: Settings) -> dict[Queue, str | None]:
    """Where each queue of the catalogue is, from the settings.

    Example
    -------
    >>> from types import SimpleNamespace as Settings
    >>> urls = queue_urls(Settings(notifications_queue_url="n", webhooks_queue_url="w", sla_queue_url=None,
    ...                             imports_queue_url="i", reports_queue_url="r"))
    >>> urls[Queue.NOTIFICATIONS], urls[Queue.SLA]
    ('n', None)
    """
    return {Queue.NOTIFICATIONS: settings.notifications_queue_url, Queue.WEBHOOKS: settings.webhooks_queue_url,
            Queue.SLA: settings.sla_queue_url, Queue.IMPORTS: settings.imports_queue_url,
            Queue.REPORTS: settings.reports_queue_url}


class HookedTenants:
    """``tenants_with_webhooks`` for the relay over a store's lookup: a yes is remembered for ``ttl_seconds`` (a
    tenant that has just removed its last endpoint costs a few messages the webhooks consumer drops), a no is asked
    again every batch (an endpoint registered since must get the next events).

    Example
    -------
    >>> asked = []
    >>> hooked = HookedTenants(lambda ids: asked.append(sorted(ids)) or {"tnt_a"} & ids)
    >>> sorted(hooked({"tnt_a", "tnt_b"})), sorted(hooked({"tnt_a", "tnt_b"})), asked
    (['tnt_a'], ['tnt_a'], [['tnt_a', 'tnt_b'], ['tnt_b']])
    """

    def __init__(self, lookup: TenantsWithWebhooks, *, ttl_seconds: float = 60.0) -> None:
        from chalicelib.core.cache import TTLCache

        self._lookup = lookup
        self._yes: TTLCache[bool] = TTLCache(ttl_seconds)

    def __call__(self, tenant_ids: set[str]) -> set[str]:
        known = {t for t in tenant_ids if self._yes.get(t)}
        found = self._lookup(tenant_ids - known) if tenant_ids - known else set()
        for tenant_id in found:
            self._yes.put(tenant_id, True)
        return known | found


def hooked_tenants(tenants_with_webhooks: TenantsWithWebhooks | None, tenant_ids: set[str]) -> set[str]:
    """The tenants of ``tenant_ids`` whose events go to the webhooks queue: those with an endpoint when asked (all
    of them when there is nobody to ask, or asking fails: the webhooks consumer then reads the endpoints itself).

    Example
    -------
    >>> sorted(hooked_tenants(lambda asked: {"tnt_a"} & asked, {"tnt_a", "tnt_b"}))
    ['tnt_a']
    >>> sorted(hooked_tenants(None, {"tnt_a", "tnt_b"}))
    ['tnt_a', 'tnt_b']
    """
    if tenants_with_webhooks is None or not tenant_ids:
        return tenant_ids
    try:
        return tenants_with_webhooks(tenant_ids)
    except Exception:  # noqa: BLE001 - a lookup that fails costs messages, never an event
        logger.warning("webhook endpoints unknown: every event goes to the webhooks queue", exc_info=True)
        return tenant_ids


def dispatch(event: Mapping[str, Any], *, urls: Mapping[Queue, str | None], send_batch: SendBatch,
             tenants_with_webhooks: TenantsWithWebhooks | None = None) -> dict[str, list[dict[str, str]]]:
    """Handle one stream batch: each event to the queues its type goes to (``urls``), sent with ``send_batch``.
    With ``tenants_with_webhooks`` (asked once per batch), a tenant's events go to the webhooks queue only if it has
    an endpoint: the batch's records were written before the question, so a tenant with none then had none when its
    events happened — an endpoint receives the events that happen once it is registered.

    Returns the partial-failure response Lambda expects.
    """
    records = list(event.get("Records", []))
    messages = [(index, number, message) for index, record in enumerate(records)
                for number, message in enumerate(events_from_record(record))]
    asked = {m["tenant_id"] for _, _, m in messages if Queue.WEBHOOKS in queues_for(m["type"]) and m.get("tenant_id")}
    hooked = hooked_tenants(tenants_with_webhooks, asked) if urls.get(Queue.WEBHOOKS) else set()
    outgoing: dict[str, list[tuple[int, dict[str, str]]]] = {}
    for index, number, message in messages:
        for queue in queues_for(message["type"]):
            url = urls.get(queue)
            if not url or (queue is Queue.WEBHOOKS and message.get("tenant_id") not in hooked):
                continue
            entry = {"Id": f"r{index}-{number}" if number else f"r{index}",
                     "MessageBody": json.dumps(message, ensure_ascii=False),
                     "MessageAttributes": {"type": {"DataType": "String", "StringValue": message["type"]}}}
            outgoing.setdefault(url, []).append((index, entry))
    chunks = [(url, entries[start:start + 10]) for url, entries in outgoing.items()
              for start in range(0, len(entries), 10)]
    failed: set[int] = set()
    answers = send_all(send_batch, [(url, [e for _, e in chunk]) for url, chunk in chunks])
    for (_, chunk), failed_ids in zip(chunks, answers, strict=True):
        failed.update(i for i, e in chunk if e["Id"] in failed_ids)
    metrics.add_metric(name="EventsDispatched", unit="Count", value=sum(len(v) for v in outgoing.values()))
    if failed:
        logger.warning("dispatch failures", extra={"failed_records": len(failed)})
    return {"batchItemFailures": [
        {"itemIdentifier": records[i]["dynamodb"]["SequenceNumber"]} for i in sorted(failed)]}
