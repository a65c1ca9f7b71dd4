"""The AWS emulator of the embedded stack: moto server on loopback, one request at a time.

DynamoDB makes every request atomic (a conditional write or a transaction either wins or
fails); moto's in-memory backends take no locks, so concurrent requests could both win.
Serialising requests restores the guarantee the code relies on. Long polls are not used
locally (the emulator polls SQS with ``WaitTimeSeconds=0``), so nothing holds the lock for long;
instead the server rings a doorbell (``Doorbell``) for the pollers a request may have given work.
The same serialisation gives the journal (``devstack.journal``) one order of changes to write.
"""
from __future__ import annotations

import copy
import json
import threading
import weakref
from collections.abc import Callable, Iterable
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server

from devstack import motostate
from devstack.emulator import STREAM_BELL, queue_name

if TYPE_CHECKING:
    from devstack.journal import Journal


class Doorbell:
    """Wakes the event-source emulator's pollers when a request may have given them work, as Lambda's pollers
    long-poll: a DynamoDB item write rings the stream (``STREAM``), a message sent to a queue or made visible again
    rings that queue (by name). Between empty polls a poller waits for its bell instead of asking the emulator again
    every 200 ms, and still looks every so often: delayed messages and visibility timeouts end without a request.

    A poller arms its bell before it polls and waits on it after an empty poll, so a ring that comes while it polls
    is not lost (its wait returns at once)."""

    STREAM = STREAM_BELL
    _QUEUE_WRITES = frozenset({"SendMessage", "SendMessageBatch", "ChangeMessageVisibility",
                               "ChangeMessageVisibilityBatch"})

    def __init__(self) -> None:
        self._bells: dict[str, threading.Event] = {}
        self._lock = threading.Lock()

    def _bell(self, key: str) -> threading.Event:
        with self._lock:
            return self._bells.setdefault(key, threading.Event())

    def ring(self, key: str) -> None:
        self._bell(key).set()

    def ring_all(self) -> None:
        with self._lock:
            bells = list(self._bells.values())
        for bell in bells:
            bell.set()

    def arm(self, key: str) -> None:
        self._bell(key).clear()

    def wait(self, key: str, timeout: float) -> None:
        self._bell(key).wait(timeout)

    def request(self, environ: dict[str, Any]) -> str | None:
        """Which bell a request rings once served, if any (an SQS write's body is read, and put back, to name the
        queue; one spelled some other way rings every bell)."""
        service, _, operation = environ.get("HTTP_X_AMZ_TARGET", "").partition(".")
        if service.startswith("DynamoDB_"):
            return self.STREAM if operation in motostate.ITEM_WRITES else None
        if service != "AmazonSQS" or operation not in self._QUEUE_WRITES:
            return None
        try:
            return queue_name(str(json.loads(motostate.read_body(environ))["QueueUrl"]))
        except (ValueError, KeyError, TypeError):
            return "*"

    def after(self, key: str | None) -> None:
        if key == "*":
            self.ring_all()
        elif key:
            self.ring(key)


class _OneAtATime:
    """Serves one request at a time; with a journal, each request's changes are journaled before its answer; with a
    doorbell, a request that may give a poller work rings it once served."""

    def __init__(self, app: Callable[..., Iterable[bytes]], journal: Journal | None = None,
                 doorbell: Doorbell | None = None) -> None:
        self._app = app
        self._journal = journal
        self._doorbell = doorbell
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        bell = self._doorbell.request(environ) if self._doorbell else None
        with self._lock:
            if self._journal is None:
                answer = list(self._app(environ, start_response))
            else:
                answer = self._journal.around(self._app, environ, start_response)
        if self._doorbell:
            self._doorbell.after(bell)
        return answer


def cheap_queue_clock() -> None:
    """Make moto's SQS read the clock once per look, not twice per message.

    A message's ``visible`` and ``delayed`` each build a datetime for now and subtract the epoch from it, and moto
    asks both of every message in the queue for each receive and each attribute count. With a few hundred messages
    waiting — the consumers behind under load — that was a fifth of the stack's CPU, slowing every receive as the
    backlog grew. ``time.time()`` gives the same milliseconds since the epoch."""
    import time

    from moto.sqs.models import Message

    if getattr(Message, "_linli_cheap_clock", False):
        return
    Message.visible = property(lambda self: time.time() * 1000 > self.visible_at)  # type: ignore[assignment]
    Message.delayed = property(lambda self: time.time() * 1000 < self.delayed_until)  # type: ignore[assignment]
    Message._linli_cheap_clock = True  # type: ignore[attr-defined]


def cheap_queue_attributes() -> None:
    """Make moto's SQS answer an attribute question by looking at the queue once, not once per message received.

    moto checks each message it hands out against the queue's retention period by asking ``get_queue_attributes``
    for ``MessageRetentionPeriod``, and that builds every attribute of the queue three times per name asked, and three
    of them (the approximate counts) walk all its messages. Receiving a batch of 10 from a backlog of 1,000 walked
    about 90,000 messages: in a profile of the ``bench`` load, about half of the emulator's own time. Now the
    retention check reads the one attribute it needs, and a question for some attributes builds the queue's
    attributes once. The answers are the same."""
    from moto.core.utils import unix_time
    from moto.sqs.models import SQSBackend

    if getattr(SQSBackend, "_linli_cheap_attributes", False):
        return
    original = SQSBackend.get_queue_attributes

    def get_queue_attributes(self: Any, queue_name: str, attribute_names: list[str]) -> dict[str, Any]:
        if not attribute_names or "All" in attribute_names:
            return original(self, queue_name, attribute_names)
        queue = self.get_queue(queue_name)
        valid = queue.BASE_ATTRIBUTES + queue.FIFO_ATTRIBUTES + queue.KMS_ATTRIBUTES
        if any(name not in valid for name in attribute_names):
            return original(self, queue_name, attribute_names)  # moto refuses it as it does
        everything = queue.attributes
        return {name: everything[name] for name in attribute_names if everything.get(name) is not None}

    def is_message_valid_based_on_retention_period(self: Any, queue_name: str, message: Any) -> bool:
        retention_period = int(self.get_queue(queue_name).message_retention_period)
        return retention_period + message.sent_timestamp / 1000 > unix_time()

    SQSBackend.get_queue_attributes = get_queue_attributes  # type: ignore[method-assign]
    SQSBackend.is_message_valid_based_on_retention_period = (  # type: ignore[method-assign]
        is_message_valid_based_on_retention_period)
    SQSBackend._linli_cheap_attributes = True  # type: ignore[attr-defined]


def cheap_transaction_rollback() -> None:
    """Make moto's TransactWriteItems cost what the transaction touches, not what the table holds.

    moto backs up every table a transaction names with ``deepcopy`` (once per item) so it can
    roll back; with thousands of items that is most of the local stack's CPU, and the restored
    copy strands the stream's readers on the old shard object. Instead: remember the items the
    transaction names and the stream's length, and on failure put exactly those back. Requests
    are serialised (above), so nothing else writes in between.
    """
    import moto.dynamodb.models as backend_module
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.dynamo_type import DynamoType
    from moto.dynamodb.models.table import Table

    if getattr(DynamoDBBackend, "_linli_cheap_rollback", False):
        return

    class _KeepTables:
        @staticmethod
        def deepcopy(value: Any, memo: Any = None) -> Any:
            return value if isinstance(value, Table) else copy.deepcopy(value, memo)

    backend_module.copy = _KeepTables  # type: ignore[assignment]
    original = DynamoDBBackend.transact_write_items

    def transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
        saved, streams = [], {}
        for entry in transact_items:
            try:
                op_type, op = next(iter(entry.items()))
                table = self.tables[op["TableName"]]
                attrs = op["Item"] if op_type == "Put" else op["Key"]
                hash_value = DynamoType(attrs[table.hash_key_attr])
                range_value = DynamoType(attrs[table.range_key_attr]) if table.range_key_attr else None
            except (KeyError, TypeError, StopIteration):
                continue  # moto itself will refuse this entry
            saved.append((table, hash_value, range_value, copy.deepcopy(table.get_item(hash_value, range_value))))
            if table.stream_shard is not None:
                streams.setdefault(id(table), (table.stream_shard, len(table.stream_shard.items)))
        try:
            return original(self, transact_items)
        except Exception:
            for table, hash_value, range_value, item in reversed(saved):
                holder = table.items[hash_value] if range_value is not None else table.items
                key = range_value if range_value is not None else hash_value
                if item is None:
                    holder.pop(key, None)
                else:
                    holder[key] = item
            for shard, length in streams.values():
                del shard.items[length:]
            raise

    DynamoDBBackend.transact_write_items = transact_write_items  # type: ignore[method-assign]
    DynamoDBBackend._linli_cheap_rollback = True  # type: ignore[attr-defined]


class IndexPartitions:
    """Which items hold which value of an attribute, for the attributes that are an index's partition key — kept as
    items are built and their attributes set or removed, so a Query on an index reads its partition (DynamoDB's
    cost) instead of every item of the table (moto's). Items are held weakly: one replaced by a put or deleted
    drops out as it is freed; a query still checks that each item is in its table with that value."""

    def __init__(self) -> None:
        self.names: set[str] = set()  # every table's index partition keys, as tables are created
        # (name, type, value) → id(item) → item, held weakly (moto's items compare by value and do not hash)
        self._buckets: dict[tuple[str, str, Any], weakref.WeakValueDictionary[int, Any]] = {}

    def items(self, name: str, kind: str, value: Any) -> list[Any]:
        bucket = self._buckets.get((name, kind, value))
        return list(bucket.values()) if bucket is not None else []

    def add(self, item: Any, name: str, value: Any) -> None:
        if name in self.names and isinstance(value.value, str | bytes):
            self._buckets.setdefault((name, value.type, value.value), weakref.WeakValueDictionary())[id(item)] = item

    def discard(self, item: Any, name: str, value: Any) -> None:
        if name in self.names and isinstance(value.value, str | bytes):
            bucket = self._buckets.get((name, value.type, value.value))
            if bucket is not None and bucket.get(id(item)) is item:
                del bucket[id(item)]


INDEX_PARTITIONS = IndexPartitions()


def _holds(table: Any, item: Any) -> bool:
    """Is this very item stored in the table (not a replaced or deleted one, nor another table's)?"""
    if table.range_key_attr:
        return table.items.get(item.hash_key, {}).get(item.range_key) is item
    return table.items.get(item.hash_key) is item


def _tracked_attrs_class() -> type:
    from moto.dynamodb.models.dynamo_type import LimitedSizeDict

    class Tracked(LimitedSizeDict):
        """An item's attributes, telling ``INDEX_PARTITIONS`` when an index partition key is set or removed (moto's
        update expressions change an item's attributes in place)."""

        _owner: Any = staticmethod(lambda: None)  # a copy made without ``of`` belongs to no item

        @classmethod
        def of(cls, item: Any, attrs: dict[str, Any]) -> Any:
            tracked = cls.__new__(cls)
            dict.update(tracked, attrs)
            tracked._owner = weakref.ref(item)
            for name, value in attrs.items():
                INDEX_PARTITIONS.add(item, name, value)
            return tracked

        def __setitem__(self, key: str, value: Any) -> None:
            old = self.get(key)
            super().__setitem__(key, value)
            item = self._owner()
            if item is not None and key in INDEX_PARTITIONS.names:
                if old is not None:
                    INDEX_PARTITIONS.discard(item, key, old)
                INDEX_PARTITIONS.add(item, key, value)

        def __delitem__(self, key: str) -> None:
            old = self.get(key)
            super().__delitem__(key)
            item = self._owner()
            if item is not None and old is not None:
                INDEX_PARTITIONS.discard(item, key, old)

        def pop(self, key: str, *default: Any) -> Any:
            if key in self:
                value = self[key]
                del self[key]
                return value
            return dict.pop(self, key, *default)

    return Tracked


class _LazyTracked:
    """``TrackedAttrs.of(...)``: the class is built on first use (moto's modules load with the emulator)."""

    _cls: Any = None

    def of(self, item: Any, attrs: dict[str, Any]) -> Any:
        if self._cls is None:
            type(self)._cls = _tracked_attrs_class()
        return self._cls.of(item, attrs)


TrackedAttrs = _LazyTracked()


class _Untracked(list):
    def append(self, _: Any) -> None:
        pass


ITEM_OPERATIONS = frozenset({"GetItem", "BatchGetItem", "Query", "Scan", "TransactGetItems", "PutItem", "UpdateItem",
                             "DeleteItem", "BatchWriteItem", "TransactWriteItems"})


def cheap_reads_and_writes() -> None:
    """Make moto's other per-request costs follow what a request touches, as DynamoDB's do (an import job writes
    tens of thousands of items into one table; every test shares that table with the ones before it):

    - a Query reads its partition, not every item of the table (moto sorts all of them, comparing typed values,
      then filters them; an index's partition is picked out by plain comparison first, then sorted);
    - a condition or filter expression is parsed once per text, not once per item (moto parses it three times per
      write in a transaction), and a request's JSON is read as JSON, not walked through the service's model;
    - an item's size is added up once when it is built, not again for every attribute (moto's check is quadratic),
      and its stream record is not encoded once more to measure ``SizeBytes`` (nothing here reads it);
    - GetRecords and the item operations answer JSON directly, without moto's generic serializer (the stream poller
      reads every record the table writes, most of them to drop them for the relay's filter; a page of 100 items
      took a quarter of a second to serialise);
    - which service a request is for is worked out once per host, not by listing moto's package directory and
      matching every service's URL patterns on every request (half the cost of an empty ReceiveMessage);
    - an update expression is parsed once per text, not three times per UpdateItem (the tree is only read, and the
      validator that resolves it against the item works on its own deep copy); the validator's processors look up
      which method handles a node in a table made once per processor class, not rebuilt at every node; and which
      actions a service's handler has is listed once per class, not with ``inspect.getmembers`` on every request
      (a 5-action UpdateItem: 4.8 ms of the emulator's CPU, was 9.1).
    """
    import datetime
    import inspect
    import json

    import moto.dynamodb.models as backend_module
    import moto.dynamodb.models.table as table_module
    import moto.dynamodb.responses as responses_module
    from moto import backends as moto_backends
    from moto.core import responses as core_responses
    from moto.core.utils import method_names_from_class
    from moto.dynamodb import comparisons
    from moto.dynamodb.models.dynamo_type import DynamoType, Item
    from moto.dynamodb.models.table import Table
    from moto.dynamodb.models.utilities import bytesize
    from moto.dynamodb.parsing.ast_nodes import DepthFirstTraverser  # type: ignore[attr-defined]
    from moto.dynamodb.parsing.expressions import UpdateExpressionParser  # type: ignore[attr-defined]
    from moto.dynamodb.responses import DynamoHandler, DynamoResult
    from moto.dynamodbstreams.responses import DynamoDBStreamsHandler

    if getattr(Table, "_linli_cheap_reads", False):
        return

    query = Table.query
    query_signature = inspect.signature(query)

    def partition_query(self: Any, hash_key: Any, *args: Any, **kwargs: Any) -> Any:
        arguments = query_signature.bind(self, hash_key, *args, **kwargs).arguments
        index_name, conditions = arguments.get("index_name"), kwargs.get("hash_key_conditions") or []
        if index_name and len(conditions) == 1:  # an index's partition: the items whose key attribute has the value
            name, wanted = conditions[0]
            if name in INDEX_PARTITIONS.names:
                partition = [item for item in INDEX_PARTITIONS.items(name, wanted.type, wanted.value)
                             if _holds(self, item)]
            else:
                partition = [item for items in self.items.values() for item in items.values()
                             if (value := item.attrs.get(name)) is not None and value.type == wanted.type
                             and value.value == wanted.value]
        elif not index_name and hash_key is not None and self.range_key_attr:
            partition = list(self.items.get(hash_key, {}).values())
            prefix = arguments.get("range_objs") or []
            if arguments.get("range_comparison") == "BEGINS_WITH" and len(prefix) == 1 and prefix[0].type == "S":
                partition = [item for item in partition if item.range_key.value.startswith(prefix[0].value)]
        else:
            return query(self, hash_key, *args, **kwargs)
        self.all_items = lambda: partition  # read by the original's list comprehension, then forgotten
        try:
            return query(self, hash_key, *args, **kwargs)
        finally:
            del self.all_items

    new_parser = comparisons.create_condition_expression_parser
    parsers: dict[str, Any] = {}

    def cached_parser(expr: Any, names: Any, values: Any) -> Any:
        """The parser of this expression, parsed once (its ``parse()`` answers the same tree every time)."""
        key = f"{expr}\0{sorted((names or {}).items())}\0{sorted((values or {}).items())}"
        parser = parsers.get(key)
        if parser is None:
            if len(parsers) > 10_000:
                parsers.clear()
            parser = new_parser(expr, names, values)
            tree = parser.parse()
            parser.parse = lambda: tree
            parsers[key] = parser
        return parser

    def cached_filter_expression(expr: Any, names: Any, values: Any) -> Any:
        return cached_parser(expr, names, values).parse()

    def json_parameters(self: Any, request: Any) -> None:
        """DynamoDB speaks JSON: its body is the parameters (what moto did before its model-driven parser)."""
        self.params = json.loads(request.data or b"{}")

    serialized = DynamoHandler.serialized

    def json_items(self: Any, action_result: Any) -> Any:
        """Item operations answer plain JSON (items are already DynamoDB JSON); the rest as moto serialises them."""
        if not isinstance(action_result, DynamoResult) or self._get_action() not in ITEM_OPERATIONS:
            return serialized(self, action_result)
        return 200, {"Content-Type": "application/x-amz-json-1.0", **self.response_headers}, json.dumps(
            action_result.result, default=epoch)

    def item_init(self: Any, hash_key: Any, range_key: Any, attrs: dict[str, Any]) -> None:
        from moto.dynamodb.exceptions import ItemSizeTooLarge

        self.hash_key, self.range_key = hash_key, range_key
        converted = {key: DynamoType(value) for key, value in attrs.items()}
        if sum(bytesize(key) + value.size() for key, value in converted.items()) > 405000:  # moto's limit
            raise ItemSizeTooLarge
        self.attrs = TrackedAttrs.of(self, converted)

    def epoch(value: Any) -> Any:
        """What the JSON protocol writes for the values JSON has no word for."""
        if isinstance(value, datetime.datetime):
            return value.timestamp()
        if isinstance(value, bytes):
            import base64

            return base64.b64encode(value).decode()
        if isinstance(value, set | frozenset | tuple):
            return list(value)
        raise TypeError(type(value).__name__)

    def get_records(self: Any) -> str:
        limit = self._get_param("Limit")
        return json.dumps(self.backend.get_records(self._get_param("ShardIterator"), limit or 1000), default=epoch)

    Table.query = partition_query  # type: ignore[method-assign]
    table_init = Table.__init__

    def table_with_partitions(self: Any, *args: Any, **kwargs: Any) -> None:
        table_init(self, *args, **kwargs)
        for index in self.indexes + self.global_indexes:  # before any of its items is built
            INDEX_PARTITIONS.names.update(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")

    Table.__init__ = table_with_partitions  # type: ignore[method-assign]
    for module in (comparisons, backend_module, table_module):
        module.get_filter_expression = cached_filter_expression  # type: ignore[attr-defined]
    for module in (comparisons, backend_module, responses_module):
        module.create_condition_expression_parser = cached_parser  # type: ignore[attr-defined]
    DynamoHandler.parse_parameters = json_parameters  # type: ignore[method-assign]
    DynamoHandler.serialized = json_items  # type: ignore[method-assign]
    table_module.dynamo_json_dump = lambda record: "{}"  # only a stream record's SizeBytes, which nothing reads
    modules = list(moto_backends.list_of_moto_modules())
    moto_backends.list_of_moto_modules = lambda: modules  # type: ignore[assignment]
    backend_for_host = DomainDispatcherApplication.get_backend_for_host
    hosts: dict[Any, Any] = {}

    def cached_backend_for_host(self: Any, host: Any) -> Any:
        if host not in hosts:
            hosts[host] = backend_for_host(self, host)
        return hosts[host]

    DomainDispatcherApplication.get_backend_for_host = cached_backend_for_host  # type: ignore[method-assign]
    Item.__init__ = item_init  # type: ignore[method-assign]
    item_deepcopy = Item.__deepcopy__

    def tracked_deepcopy(self: Any, memo: Any) -> Any:
        copied = item_deepcopy(self, memo)  # a transaction's saved copy may be put back: its keys count too
        copied.attrs = TrackedAttrs.of(copied, copied.attrs)
        return copied

    Item.__deepcopy__ = tracked_deepcopy  # type: ignore[method-assign]
    Item.instances_tracked = _Untracked()  # moto's dashboard list of every item ever built: memory, never read here
    DynamoDBStreamsHandler.get_records = get_records  # type: ignore[method-assign]
    # (a refused text raises, and is not kept)
    UpdateExpressionParser.make = staticmethod(lru_cache(maxsize=10_000)(UpdateExpressionParser.make))
    core_responses.method_names_from_class = lru_cache(maxsize=None)(method_names_from_class)
    # The validator's ten processors walk the tree and, at every node, build their map of node class → method
    # again; the map is the same for every instance of a processor class (methods of the instance itself).
    plans: dict[type, tuple[tuple[tuple[type, Any], ...], tuple[type, ...]] | None] = {}
    process_node, node_types = DepthFirstTraverser.process, DepthFirstTraverser.nodes_to_be_processed

    def plan_of(traverser: Any) -> tuple[tuple[tuple[type, Any], ...], tuple[type, ...]] | None:
        kind = type(traverser)
        if kind not in plans:
            steps = traverser._processing_map().items()
            plans[kind] = ((tuple((node_type, method.__func__) for node_type, method in steps),
                            tuple(node_type for node_type, _ in steps))
                           if all(getattr(m, "__self__", None) is traverser for _, m in steps) else None)
        return plans[kind]

    def planned_process(self: Any, node: Any) -> Any:
        plan = plan_of(self)
        if plan is None:
            return process_node(self, node)
        for node_type, function in plan[0]:
            if isinstance(node, node_type):
                return function(self, node)
        return None

    def planned_node_types(self: Any) -> Any:
        plan = plan_of(self)
        return node_types(self) if plan is None else plan[1]

    DepthFirstTraverser.process = planned_process  # type: ignore[method-assign]
    DepthFirstTraverser.nodes_to_be_processed = planned_node_types  # type: ignore[method-assign]
    Table._linli_cheap_reads = True  # type: ignore[attr-defined]


class SerialMotoServer(ThreadedMotoServer):
    """moto server with requests serialised; given a journal (``devstack.journal``), its data persists."""

    def __init__(self, *args: Any, journal: Journal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = journal
        self.app = DomainDispatcherApplication(create_backend_app)  # what the journal replays into, in process
        self.doorbell = Doorbell()

    def start(self) -> None:
        cheap_transaction_rollback()
        cheap_reads_and_writes()
        cheap_queue_clock()
        cheap_queue_attributes()
        super().start()

    def _server_entry(self) -> None:
        app = _OneAtATime(self.app, self.journal, self.doorbell)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()

    def stop(self) -> None:
        self.doorbell.ring_all()  # no poller waits on a bell that will not ring again
        super().stop()
