"""The single table as PynamoDB sees it. Its physical definition lives in ``infra/resources.json``."""
from __future__ import annotations

import json
import threading
import zlib
from functools import lru_cache
from typing import Any

from pynamodb.attributes import Attribute, DiscriminatorAttribute, JSONAttribute, NumberAttribute, UnicodeAttribute
from pynamodb.connection import Connection
from pynamodb.constants import BINARY, STRING
from pynamodb.exceptions import AttributeDeserializationError
from pynamodb.indexes import AllProjection, GlobalSecondaryIndex, IncludeProjection
from pynamodb.models import Model

from chalicelib.core.settings import Settings


class CompressedJSONAttribute(Attribute[Any]):
    """JSON deflated into a binary attribute, for a large value no expression reads: DynamoDB bills a write by the
    kilobytes of the whole item — and again for every index that projects it — so a ticket's SLA clocks (about
    900 bytes of JSON, 300 deflated) decide whether each change of the ticket costs two units or three, per copy.
    A value stored before as a JSON string is still read.

    >>> attribute = CompressedJSONAttribute()
    >>> attribute.deserialize(attribute.serialize({"due_at": "2026-11-28T02:00:00.000Z"}))
    {'due_at': '2026-11-28T02:00:00.000Z'}
    >>> attribute.deserialize('{"state": "met"}')
    {'state': 'met'}
    """

    attr_type = BINARY

    def serialize(self, value: Any) -> bytes:
        return zlib.compress(compact_json(value).encode(), 9)

    def deserialize(self, value: bytes | str) -> Any:
        return json.loads(value if isinstance(value, str) else zlib.decompress(value))

    def get_value(self, value: dict[str, Any]) -> Any:
        for kind in (BINARY, STRING):  # STRING: written as plain JSON before
            if kind in value:
                return value[kind]
        raise AttributeDeserializationError(self.attr_name, self.attr_type)


class CompactJSONAttribute(JSONAttribute):
    """JSON stored as :func:`compact_json` writes it: what DynamoDB bills is the stored bytes. Reads any JSON, so
    values written before read as they did.

    >>> CompactJSONAttribute().serialize({"category": "水电", "score": 5})
    '{"category":"水电","score":5}'
    """

    def serialize(self, value: Any) -> str | None:
        return None if value is None else compact_json(value)


def compact_json(value: Any) -> str:
    """JSON without the spaces after separators, Chinese as UTF-8: 3 bytes a character, where an ASCII escape
    (``\\u6c34`` for 水) takes 6."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


class GSI1(GlobalSecondaryIndex):
    """Overloaded lookups: staff by e-mail, a tenant's API keys."""

    class Meta:
        index_name = "GSI1"
        projection = AllProjection()

    GSI1PK = UnicodeAttribute(hash_key=True)
    GSI1SK = UnicodeAttribute(range_key=True)


class GSI2(GlobalSecondaryIndex):
    """Overloaded queues and secondary listings."""

    class Meta:
        index_name = "GSI2"
        projection = AllProjection()

    GSI2PK = UnicodeAttribute(hash_key=True)
    GSI2SK = UnicodeAttribute(range_key=True)


class GSI3(GlobalSecondaryIndex):
    """Overloaded: residents by phone, a resident's own tickets."""

    class Meta:
        index_name = "GSI3"
        projection = AllProjection()

    GSI3PK = UnicodeAttribute(hash_key=True)
    GSI3SK = UnicodeAttribute(range_key=True)


class GSI4(GlobalSecondaryIndex):
    """Sparse, per tenant, overloaded: open tickets with a running SLA clock by the next deadline (``…#RISK``,
    the at-risk view), and closed or resolved tickets flagged for follow-up by flag time (``…#FLAG``).
    ``tickets.repository.index_keys`` decides which (never both)."""

    class Meta:
        index_name = "GSI4"
        projection = AllProjection()

    GSI4PK = UnicodeAttribute(hash_key=True)
    GSI4SK = UnicodeAttribute(range_key=True)


class DueIndex(GlobalSecondaryIndex):
    """Platform-wide and sparse: items with something due (auto-close now, SLA clocks later), by hour bucket.

    A sweep reads only the buckets up to now, so its cost follows what is due, not what is open.
    """

    class Meta:
        index_name = "DueIndex"
        projection = IncludeProjection(["entity"])  # the item type, so typed queries can filter on it

    due_bucket = UnicodeAttribute(hash_key=True)
    due_at = UnicodeAttribute(range_key=True)


class LinliModel(Model):
    """Base of every item. ``entity`` tells item types apart (PynamoDB polymorphism)."""

    class Meta:
        table_name = "linli-local"
        region = "us-east-1"
        host: str | None = None

    PK = UnicodeAttribute(hash_key=True)
    SK = UnicodeAttribute(range_key=True)
    entity = DiscriminatorAttribute()
    expires_at = NumberAttribute(null=True)

    @classmethod
    def _get_connection(cls):  # noqa: ANN206
        # Each item type keeps its own connection (its schema names its indexes); never inherit the base's.
        if "_connection" not in cls.__dict__:
            cls._connection = None
        connection = super()._get_connection()
        # ...but all of them talk through the process's one client (see transaction_connection).
        if connection.connection._client is None:
            connection.connection._client = transaction_connection().client
        return connection


def save_new(item: LinliModel) -> bool:
    """Put ``item`` only if nothing is stored under its key: True when it was, False when the key was taken (any
    other refusal is raised)."""
    from pynamodb.exceptions import PutError

    try:
        item.save(condition=type(item).PK.does_not_exist())
    except PutError as exc:
        if exc.cause_response_code == "ConditionalCheckFailedException":
            return False
        raise
    return True


class UniqueItem(LinliModel, discriminator="unique"):
    """Claims a tenant-unique value (a staff e-mail, a resident phone, a unit number) for its owner."""

    owner_id = UnicodeAttribute()


class CounterItem(LinliModel, discriminator="counter"):
    """An atomic counter (daily caps, round-robin positions); expires by TTL where it is time-bound."""

    count = NumberAttribute(default=0)


def _all_models(cls: type[Model]) -> list[type[Model]]:
    found = [cls]
    for sub in cls.__subclasses__():
        found.extend(_all_models(sub))
    return found


def configure_storage(settings: Settings) -> None:
    """Point every model at the table of these settings (called once at start-up, and by tests)."""
    LinliModel.Meta.table_name = settings.table_name
    LinliModel.Meta.region = settings.region
    LinliModel.Meta.host = settings.aws_endpoint_url
    for model in _all_models(LinliModel):
        model._connection = None
    transaction_connection.cache_clear()


_CLIENT_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def transaction_connection() -> Connection:
    """The process's DynamoDB connection, whose client every item type shares.

    Left alone, PynamoDB builds a botocore client per model class, each from the calling thread's own
    session (so the service model JSON is loaded again every time): about 16 clients at ~80 ms each on a
    new container, and a consumer thread's first read of a new item type stalls for the same. Botocore
    clients are thread-safe once built, so one is built here, under a lock, and handed to every model."""
    with _CLIENT_LOCK:
        connection = Connection(region=LinliModel.Meta.region, host=LinliModel.Meta.host)
        connection.client  # noqa: B018 - build it now, on this thread, once
        return connection
