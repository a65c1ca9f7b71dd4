"""The AWS emulator of the embedded stack: moto server on loopback, one request at a time.

DynamoDB makes every request atomic (a conditional write or a transaction either wins or
fails); moto's in-memory backends take no locks, so concurrent requests could both win.
Serialising requests restores the guarantee the code relies on. Long polls are not used
locally (the emulator polls SQS with ``WaitTimeSeconds=0``), so nothing holds the lock for long.
The same serialisation gives the journal (``devstack.journal``) one order of changes to write.
"""
from __future__ import annotations

import copy
import threading
from collections.abc import Callable, Iterable
from typing import TYPE_CHECKING, Any

from moto.moto_server.threaded_moto_server import ThreadedMotoServer
from moto.moto_server.werkzeug_app import DomainDispatcherApplication, create_backend_app
from moto.server import MotoRequestHandler
from werkzeug.serving import make_server

if TYPE_CHECKING:
    from devstack.journal import Journal


class _OneAtATime:
    """Serves one request at a time; with a journal, each request's changes are journaled before its answer."""

    def __init__(self, app: Callable[..., Iterable[bytes]], journal: Journal | None = None) -> None:
        self._app = app
        self._journal = journal
        self._lock = threading.Lock()

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        with self._lock:
            if self._journal is None:
                return list(self._app(environ, start_response))
            return self._journal.around(self._app, environ, start_response)


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


class SerialMotoServer(ThreadedMotoServer):
    """moto server with requests serialised; given a journal (``devstack.journal``), its data persists."""

    def __init__(self, *args: Any, journal: Journal | None = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.journal = journal
        self.app = DomainDispatcherApplication(create_backend_app)  # what the journal replays into, in process

    def start(self) -> None:
        cheap_transaction_rollback()
        super().start()

    def _server_entry(self) -> None:
        app = _OneAtATime(self.app, self.journal)
        self._server = make_server(self._ip_address, self._port, app, True, request_handler=MotoRequestHandler)
        self._server_ready_event.set()
        self._server.serve_forever()
