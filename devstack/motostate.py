"""The AWS emulator's state as the journal keeps it: read from and written into moto's in-process backends.

Only what the embedded stack's *data* lives in, as JSON-able entries (``{"t": kind, ...}``):

- ``ddb``: one DynamoDB item write (PutItem, UpdateItem, DeleteItem, BatchWriteItem, TransactWriteItems,
  PartiQL) as the request it was (method, path, the headers moto reads, body), replayed through moto
  itself: deterministic, and it rebuilds the table's stream in the same order.
- ``items`` / ``stream``: a table's items and the undispatched tail of its stream (snapshots only).
- ``sqs``: messages that appeared in or left a queue (id, body, attributes, delay, receive count), found by
  comparing the queues before and after each SQS request, so sends, deletes and moves to a DLQ are kept
  however the request was spelled; receives and visibility changes are not (a message in flight at a kill is
  visible again after the restart: at least once, as SQS promises).
- ``s3``: objects put or deleted, found the same way around each S3 write (``devstack.blobs``).
- ``kms``: every key of an account and region with its key material and aliases, written whenever they
  change. moto draws key ids and material at random, so replaying ``CreateKey`` would give another key: the
  key is restored as it was, and what it sealed still opens.

Queues, tables, buckets and their settings are not kept: ``devstack.resources`` creates them from
``infra/resources.json`` at every start, before the data is put back.
"""
from __future__ import annotations

import base64
import io
from collections.abc import Callable, Iterator
from datetime import datetime
from typing import Any

ITEM_WRITES = frozenset({"PutItem", "UpdateItem", "DeleteItem", "BatchWriteItem", "TransactWriteItems",
                         "ExecuteStatement", "BatchExecuteStatement", "ExecuteTransaction"})
_KEPT_ENVIRON = ("REQUEST_METHOD", "PATH_INFO", "QUERY_STRING", "CONTENT_TYPE", "HTTP_HOST", "HTTP_AUTHORIZATION",
                 "HTTP_X_AMZ_TARGET", "HTTP_X_AMZ_DATE")
ITEMS_PER_ENTRY = 500


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode()


def read_body(environ: dict[str, Any]) -> bytes:
    """The request's body, read once and put back as a fresh stream (moto reads it again)."""
    stream = environ.get("wsgi.input") or io.BytesIO()
    length = environ.get("CONTENT_LENGTH") or ""
    body = stream.read(int(length)) if length.isdigit() else stream.read() if environ.get("wsgi.input_terminated") \
        else b""
    environ["wsgi.input"] = io.BytesIO(body)
    environ["CONTENT_LENGTH"] = str(len(body))
    environ.pop("HTTP_TRANSFER_ENCODING", None)
    return body


_BACKENDS: dict[str, str | None] = {}  # moto's host → backend (matching hundreds of URL patterns costs ms)


def backend_of(dispatcher: Any, environ: dict[str, Any]) -> str | None:
    """Which moto backend serves this request ("dynamodb", "sqs", "s3", "kms", …), as moto itself decides."""
    path = environ.get("PATH_INFO", "")
    if path.startswith("/moto-api"):
        return None
    probe = {**environ, "wsgi.input": io.BytesIO(environ["wsgi.input"].getvalue())}
    try:
        host = dispatcher.infer_service_region_host(probe, path) or "s3.us-east-1.amazonaws.com"
        if host not in _BACKENDS:
            _BACKENDS[host] = dispatcher.get_backend_for_host(host)
        return _BACKENDS[host]
    except (KeyError, IndexError, ValueError):
        return None


# --- DynamoDB -------------------------------------------------------------------------------------------------
def item_write(environ: dict[str, Any], body: bytes) -> dict[str, Any] | None:
    """The ``ddb`` entry of a DynamoDB request that writes items, or None for any other request."""
    operation = environ.get("HTTP_X_AMZ_TARGET", "").rpartition(".")[2]
    if operation not in ITEM_WRITES:
        return None
    env = {k: environ[k] for k in _KEPT_ENVIRON if isinstance(environ.get(k), str)}
    if "HTTP_AUTHORIZATION" in env:  # moto reads the account and region from the credential scope; no signature
        env["HTTP_AUTHORIZATION"] = env["HTTP_AUTHORIZATION"].split(",")[0]
    return {"t": "ddb", "env": env, "body": body.decode("utf-8")}


def replay(app: Callable[..., Any], entry: dict[str, Any]) -> int:
    """Send a recorded request through moto's WSGI app again, in process; its HTTP status."""
    from werkzeug.test import EnvironBuilder

    env = entry["env"]
    environ = EnvironBuilder(method=env["REQUEST_METHOD"], query_string=env.get("QUERY_STRING", ""),
                             data=entry["body"].encode("utf-8"), content_type=env.get("CONTENT_TYPE")).get_environ()
    environ.update(env)
    status: list[str] = []
    for _ in app(environ, lambda line, headers, exc_info=None: status.append(line)):
        pass
    return int(status[0].split()[0]) if status else 500


def _tables() -> Iterator[tuple[str, str, Any]]:
    from moto.dynamodb.models import dynamodb_backends

    for account, regions in list(dynamodb_backends.items()):
        for region, backend in list(regions.items()):
            for table in list(backend.tables.values()):
                yield account, region, table


def _table(entry: dict[str, Any]) -> Any:
    from moto.dynamodb.models import dynamodb_backends

    return dynamodb_backends[entry["account"]][entry["region"]].tables.get(entry["table"])


def _json_safe(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _json_safe(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_json_safe(v) for v in value]
    if isinstance(value, bytes | bytearray):
        return _b64(bytes(value))
    if isinstance(value, datetime):
        return {"$datetime": value.isoformat()}
    return value


def _from_json(value: Any) -> Any:
    if isinstance(value, dict):
        if set(value) == {"$datetime"}:
            return datetime.fromisoformat(value["$datetime"])
        return {k: _from_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_from_json(v) for v in value]
    return value


def table_entries() -> Iterator[dict[str, Any]]:
    """Every table's items, ``ITEMS_PER_ENTRY`` to an entry."""
    for account, region, table in _tables():
        items = [_json_safe(item.to_json()["Attributes"]) for item in table.all_items()]
        for start in range(0, len(items), ITEMS_PER_ENTRY):
            yield {"t": "items", "account": account, "region": region, "table": table.name,
                   "items": items[start:start + ITEMS_PER_ENTRY]}


def stream_entries(marks: dict[str, int]) -> Iterator[dict[str, Any]]:
    """Every stream's records after its table's dispatch mark (the sequence numbers kept, so marks written later
    in the journal still name the same records)."""
    for account, region, table in _tables():
        shard = table.stream_shard
        if shard is None:
            continue
        skip = max(0, marks.get(table.name, -1) + 1 - shard.starting_sequence_number)
        yield {"t": "stream", "account": account, "region": region, "table": table.name,
               "start": shard.starting_sequence_number + min(skip, len(shard.items)),
               "records": [_json_safe(r.record) for r in shard.items[skip:]]}


def restore_items(entry: dict[str, Any]) -> bool:
    table = _table(entry)
    if table is None:
        return False
    for attributes in entry["items"]:
        table.put_item(attributes)
    if table.stream_shard is not None:  # loading is not writing: the stream gets its own entry
        table.stream_shard.items = []
    return True


def restore_stream(entry: dict[str, Any]) -> bool:
    from moto.dynamodb.models.table import StreamRecord

    table = _table(entry)
    if table is None or table.stream_shard is None:
        return False
    records = []
    for record in entry["records"]:
        restored = StreamRecord.__new__(StreamRecord)
        restored.record = _from_json(record)
        records.append(restored)
    table.stream_shard.items = records
    table.stream_shard.starting_sequence_number = entry["start"]
    return True


def trim_streams(marks: dict[str, int], wanted: Callable[[dict[str, Any]], bool]) -> int:
    """Before the event-source emulator starts: drop from every stream what was dispatched before (up to the
    table's mark) and what the mapping's filter never hands on, numbering the rest from after the mark. The
    emulator reads from TRIM_HORIZON, so it sees only what was not dispatched yet. The records kept are stamped
    now, as those the journal's replay wrote are: a record's age (``MaximumRecordAgeInSeconds``) counts while the
    stack runs, so what waited for a restart is dispatched, not discarded. Returns the records kept."""
    from moto.core.utils import utcnow

    kept_total = 0
    for _, _, table in _tables():
        shard = table.stream_shard
        if shard is None:
            continue
        mark = marks.get(table.name)
        first = shard.starting_sequence_number
        kept = [r for i, r in enumerate(shard.items) if (mark is None or first + i > mark) and wanted(r.record)]
        start = max(first, mark + 1) if mark is not None else first
        for offset, record in enumerate(kept):
            record.record["dynamodb"].update(SequenceNumber=str(start + offset), ApproximateCreationDateTime=utcnow())
        shard.items, shard.starting_sequence_number = kept, start
        kept_total += len(kept)
    return kept_total


# --- SQS ------------------------------------------------------------------------------------------------------
def queue_messages() -> dict[tuple[str, str, str], dict[str, Any]]:
    """(account, region, queue) → {message id: message}, for comparing before and after a request."""
    from moto.sqs.models import sqs_backends

    found = {}
    for account, regions in list(sqs_backends.items()):
        for region, backend in list(regions.items()):
            for name, queue in list(backend.queues.items()):
                found[(account, region, name)] = {m.id: m for m in list(queue._messages)}
    return found


def _message(message: Any) -> dict[str, Any]:
    return {"id": message.id, "body": message.body, "attributes": _json_safe(message.message_attributes),
            "system": _json_safe(message.system_attributes), "sent": message.sent_timestamp,
            "delayed_until": message.delayed_until, "receives": message.approximate_receive_count}


def queue_changes(before: dict[tuple[str, str, str], dict[str, Any]],
                  after: dict[tuple[str, str, str], dict[str, Any]]) -> list[dict[str, Any]]:
    entries = []
    for key in sorted(set(before) | set(after)):
        old, new = before.get(key, {}), after.get(key, {})
        added = [_message(m) for i, m in new.items() if i not in old]
        removed = [i for i in old if i not in new]
        if added or removed:
            account, region, name = key
            entries.append({"t": "sqs", "account": account, "region": region, "queue": name, "add": added,
                            "remove": removed})
    return entries


def queue_entries() -> Iterator[dict[str, Any]]:
    for key, messages in queue_messages().items():
        if messages:
            yield from queue_changes({}, {key: messages})


def restore_queue(entry: dict[str, Any]) -> bool:
    from moto.sqs.models import Message, sqs_backends

    queue = sqs_backends[entry["account"]][entry["region"]].queues.get(entry["queue"])
    if queue is None:
        return False
    gone = set(entry["remove"])
    queue._messages = [m for m in queue._messages if m.id not in gone]
    for kept in entry["add"]:
        message = Message(kept["id"], kept["body"], kept["system"])
        message.message_attributes = kept["attributes"]
        message.sent_timestamp = kept["sent"]
        message.delayed_until = kept["delayed_until"]
        message.approximate_receive_count = kept["receives"]
        queue._messages.append(message)
    return True


# --- KMS ------------------------------------------------------------------------------------------------------
def _kms_backends() -> Iterator[tuple[str, str, Any]]:
    from moto.kms.models import kms_backends

    for account, regions in list(kms_backends.items()):
        for region, backend in list(regions.items()):
            yield account, region, backend


def key_fingerprint() -> tuple[Any, ...]:
    """Changes whenever a key, its state or its aliases change (compared around each KMS request)."""
    return tuple((account, region, key.id, key.key_state, key.enabled, key.key_rotation_status, key.key_material,
                  tuple(sorted(key.aliases)))
                 for account, region, backend in _kms_backends() for key in list(backend.keys.values()))


def key_entries() -> Iterator[dict[str, Any]]:
    for account, region, backend in _kms_backends():
        yield {"t": "kms", "account": account, "region": region, "keys": [
            {"id": key.id, "material": _b64(key.key_material), "usage": key.key_usage, "spec": key.key_spec,
             "description": key.description, "policy": key.policy, "state": key.key_state, "enabled": key.enabled,
             "rotation": key.key_rotation_status, "aliases": sorted(key.aliases)}
            for key in list(backend.keys.values())]}


def restore_keys(entry: dict[str, Any]) -> None:
    """Put back every key of the entry's account and region with its id, material and aliases."""
    from moto.kms.models import kms_backends

    backend = kms_backends[entry["account"]][entry["region"]]
    backend.keys.clear()
    for kept in entry["keys"]:
        key = backend.create_key(kept["policy"], kept["usage"], kept["spec"], kept["description"], None)
        del backend.keys[key.id]
        key.arn = key.arn.rsplit("/", 1)[0] + "/" + kept["id"]
        key.id, key.key_material = kept["id"], base64.b64decode(kept["material"])
        key.key_state, key.enabled, key.key_rotation_status = kept["state"], kept["enabled"], kept["rotation"]
        backend.keys[key.id] = key
        for alias in kept["aliases"]:
            backend.create_alias(key.id, alias)
