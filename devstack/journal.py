"""Persistence for the embedded stack (``make run``): a write journal of the AWS emulator, replayed at start.

Where: ``.linli/`` at the repository root, or ``LINLI_DATA_DIR``. ``make reset`` empties it. Tests start
:class:`~devstack.stack.LocalStack` without a data directory: nothing is kept, nothing is slower.

What is in it:

- ``keys.json``: the JWT signing keyring the stack generated (tokens and cursors outlive a restart);
- ``seeded``: the demo tenant was seeded into this data once (it is not seeded again);
- ``snapshot-<n>.jsonl`` + ``journal-<n>.jsonl``: generation *n* of the emulator's data. The snapshot is the
  state when the generation began (every table's items, the undispatched tail of its stream, the messages in
  the queues, the objects in the buckets, the KMS keys with their material); the journal is every change
  since, one JSON line per emulator request that changed data, written and flushed before moto's answer
  leaves the process. A ``kill -9`` loses at most a request nobody was answered for (a torn last line is
  ignored); lines are flushed, not fsynced, so a power cut may lose the last seconds (snapshots are fsynced).
  ``devstack.motostate`` says what an entry holds and why each service is kept the way it is.
- ``blobs/``: the bodies of the S3 objects, one file each, named by their SHA-256 (``devstack.blobs``).
- ``lock``: held by the running stack, so two stacks (or ``make reset``) never share a data directory.

The directory is made readable by its owner only: it holds key material (local keys, but still).

Start: moto starts empty, the KMS keys go back first (so ``create_resources`` finds the secrets key and its
alias instead of making a new one), the table, queues and bucket are created from ``infra/resources.json``,
then the snapshot and the journal are applied in order (DynamoDB writes replayed through moto, which rebuilds
the stream). Compaction: right after that, and whenever the journal outgrows ``compact_bytes``, the current
state becomes snapshot *n+1* (written aside, fsynced, renamed) with an empty journal *n+1*, and generation *n*
is deleted; a crash at any point leaves one complete generation to start from.

Nothing is sent twice: the stream's dispatcher is wrapped (:meth:`Journal.dispatcher`) so that each batch it
handles appends a ``dispatched`` mark (the last sequence number it got through). At start every stream is cut
after its mark, and the emulator, reading from TRIM_HORIZON, sees only events never dispatched: an event
written but not yet dispatched at a kill is dispatched after the restart. An event dispatched at the moment
of the kill, before its mark was written, is dispatched again; the consumers dedupe by event id (notification
claims, one inbox entry per event, one webhook delivery per event and endpoint). Messages deleted from a queue
stay deleted; one in flight at the kill is received again (at least once, as SQS).
"""
from __future__ import annotations

import json
import os
import re
import secrets
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

from devstack import motostate
from devstack.blobs import Blobs, bucket_objects, remove_blobs

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_DATA_DIR = ROOT / ".linli"
COMPACT_BYTES = 4 * 1024 * 1024  # replayed in a few seconds at most
_GENERATION = re.compile(r"^(snapshot|journal)-(\d+)\.jsonl$")
_END = b'{"t":"end"}\n'
_OURS = re.compile(r"^((snapshot|journal)-\d+\.jsonl(\.tmp)?|keys\.json(\.tmp)?|seeded|lock)$")


class DataDirBusyError(RuntimeError):
    pass


def data_dir_from_env() -> Path:
    return Path(os.environ.get("LINLI_DATA_DIR") or DEFAULT_DATA_DIR).expanduser()


def shown(path: Path) -> str:
    """The data directory as the banner shows it: relative to the working directory (make run: the repository)."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve())) + "/"
    except ValueError:
        return str(path) + "/"


def _lock(root: Path) -> IO[str]:
    import fcntl

    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    handle = open(root / "lock", "a")  # noqa: SIM115 - held for the life of the stack
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except OSError:
        handle.close()
        raise DataDirBusyError(f"Another Linli stack is using {shown(root)}; stop it first "
                               "(or set LINLI_DATA_DIR to another directory).") from None
    return handle


def reset_data(root: Path) -> int:
    """``make reset``: delete the stack's files from ``root`` (and ``root`` when that empties it); how many went.
    Only files the stack writes are touched; refused while a stack runs on it."""
    if not root.is_dir():
        return 0
    handle = _lock(root)
    try:
        doomed = [p for p in root.iterdir() if p.is_file() and _OURS.match(p.name) and p.name != "lock"]
        for path in doomed:
            path.unlink()
        removed = len(doomed) + remove_blobs(root)
        (root / "lock").unlink(missing_ok=True)
    finally:
        handle.close()
    if not any(root.iterdir()):
        root.rmdir()
    return removed


def signing_keys(root: Path) -> tuple[str, str]:
    """(LINLI_JWT_KEYS, LINLI_JWT_ACTIVE_KID) kept in ``root``: generated on first use, then read back."""
    path = root / "keys.json"
    if path.exists():
        stored = json.loads(path.read_text(encoding="utf-8"))
        return json.dumps(stored["keys"]), stored["active_kid"]
    root.mkdir(mode=0o700, parents=True, exist_ok=True)
    keys = {"local-1": secrets.token_urlsafe(48)}
    tmp = root / "keys.json.tmp"
    with open(os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600), "w", encoding="utf-8") as out:
        json.dump({"keys": keys, "active_kid": "local-1"}, out)
    tmp.replace(path)
    return json.dumps(keys), "local-1"


def _read(path: Path) -> Iterator[dict[str, Any]]:
    """The entries of a file; a torn last line (a kill mid-write) ends it."""
    with open(path, encoding="utf-8") as lines:
        for line in lines:
            try:
                yield json.loads(line)
            except ValueError:
                return


class Journal:
    """One data directory's journal: restores the emulator at start, then records every data change."""

    def __init__(self, root: Path, *, compact_bytes: int | None = None) -> None:
        self.root, self.compact_bytes = root, compact_bytes or COMPACT_BYTES
        self._lock_handle: IO[str] | None = _lock(root)
        self.blobs = Blobs(root)
        found: dict[int, set[str]] = {}
        for path in root.iterdir():
            if match := _GENERATION.match(path.name):
                found.setdefault(int(match.group(2)), set()).add(match.group(1))
        complete = [n for n, kinds in found.items() if "snapshot" in kinds and self._complete(n)]
        self.generation = max(complete, default=0)
        self.marks: dict[str, int] = {}
        self.recording = False
        self.replay_failures = 0
        self._entries: list[dict[str, Any]] | None = None
        self._out: IO[str] | None = None
        self._size = 0
        self._write_lock = threading.Lock()

    @property
    def seeded(self) -> bool:
        return (self.root / "seeded").exists()

    def mark_seeded(self) -> None:
        (self.root / "seeded").touch()

    def _path(self, kind: str, generation: int) -> Path:
        return self.root / f"{kind}-{generation}.jsonl"

    def _complete(self, generation: int) -> bool:
        with open(self._path("snapshot", generation), "rb") as snapshot:
            snapshot.seek(0, os.SEEK_END)
            snapshot.seek(max(0, snapshot.tell() - len(_END)))
            return snapshot.read() == _END

    def _stored(self) -> list[dict[str, Any]]:
        if self._entries is None:
            self._entries = []
            for kind in ("snapshot", "journal"):
                path = self._path(kind, self.generation)
                if path.exists():
                    self._entries.extend(e for e in _read(path) if e.get("t") != "end")
        return self._entries

    # --- start ---------------------------------------------------------------------------------------------
    def restore_keys(self) -> None:
        """The KMS keys, before the resources are created (the latest state of each account and region)."""
        latest = {(e["account"], e["region"]): e for e in self._stored() if e["t"] == "kms"}
        for entry in latest.values():
            motostate.restore_keys(entry)

    def restore(self, app: Callable[..., Any], wanted: Callable[[dict[str, Any]], bool]) -> None:
        """The data, into the resources just created; then the streams cut after what was dispatched."""
        appliers = {"items": motostate.restore_items, "stream": motostate.restore_stream,
                    "sqs": motostate.restore_queue, "s3": self.blobs.restore}
        for entry in self._stored():
            kind = entry["t"]
            if kind == "ddb":
                self.replay_failures += motostate.replay(app, entry) >= 300
            elif kind == "dispatched":
                self.marks[entry["table"]] = max(entry["seq"], self.marks.get(entry["table"], entry["seq"]))
            elif kind in appliers:
                self.replay_failures += not appliers[kind](entry)
        self._entries = None
        motostate.trim_streams(self.marks, wanted)
        self.marks = {}
        if self.replay_failures:
            sys.stderr.write(f"Linli: {self.replay_failures} entries of {shown(self.root)} could not be restored "
                             "(make reset starts clean).\n")

    def begin(self) -> None:
        """Compact what was restored into a new generation and record from now on."""
        self.compact()
        self.recording = True

    # --- recording -----------------------------------------------------------------------------------------
    def around(self, app: Any, environ: dict[str, Any], start_response: Callable[..., Any]) -> list[bytes]:
        """Serve one emulator request and journal what it changed. Called with requests serialised."""
        if not self.recording:
            return list(app(environ, start_response))
        body = motostate.read_body(environ)
        backend = motostate.backend_of(app, environ)
        writes = environ.get("REQUEST_METHOD") not in ("GET", "HEAD", "OPTIONS")
        before: Any = None
        if backend == "sqs":
            before = motostate.queue_messages()
        elif backend == "s3" and writes:
            before = bucket_objects()
        elif backend == "kms":
            before = motostate.key_fingerprint()
        status: list[str] = []

        def capture(line: str, headers: Any, exc_info: Any = None) -> Any:
            status.append(line)
            return start_response(line, headers, exc_info)

        answer = list(app(environ, capture))
        entries: list[dict[str, Any]] = []
        if backend == "dynamodb" and status and status[0].startswith("2"):
            entries = [e for e in [motostate.item_write(environ, body)] if e]
        elif backend == "sqs":
            entries = motostate.queue_changes(before, motostate.queue_messages())
        elif backend == "s3" and writes:
            entries = self.blobs.changes(before, bucket_objects())
        elif backend == "kms" and motostate.key_fingerprint() != before:
            entries = list(motostate.key_entries())
        if entries:
            self._append(entries)
            if self._size > self.compact_bytes:
                self.compact()
        return answer

    def _append(self, entries: list[dict[str, Any]]) -> None:
        text = "".join(json.dumps(e, ensure_ascii=False, separators=(",", ":")) + "\n" for e in entries)
        with self._write_lock:
            if self._out is None:
                return
            self._out.write(text)
            self._out.flush()
            self._size += len(text.encode("utf-8"))

    def dispatcher(self, handler: Callable[..., Any], table: str) -> Callable[..., Any]:
        """``handler`` (the stream's dispatcher) marking, after each batch, the last record it got through."""
        def dispatch(event: dict[str, Any], context: Any) -> Any:
            answer = handler(event, context)
            failed = {f["itemIdentifier"] for f in (answer or {}).get("batchItemFailures", [])} \
                if isinstance(answer, dict) else set()
            done = None
            for record in event.get("Records", []):
                if record["dynamodb"]["SequenceNumber"] in failed:
                    break
                done = int(record["dynamodb"]["SequenceNumber"])
            if done is not None and self.recording:
                with self._write_lock:
                    self.marks[table] = max(done, self.marks.get(table, done))
                self._append([{"t": "dispatched", "table": table, "seq": done}])
            return answer
        return dispatch

    # --- compaction ----------------------------------------------------------------------------------------
    def compact(self) -> None:
        """The current state as generation n+1; generation n goes. Emulator requests are serialised meanwhile, and
        dispatch marks wait (one arriving during compaction belongs to the new journal)."""
        following = self.generation + 1
        snapshot, tmp = self._path("snapshot", following), self.root / f"snapshot-{following}.jsonl.tmp"
        with self._write_lock:
            with open(tmp, "w", encoding="utf-8") as out:
                for entries in (motostate.key_entries(), motostate.table_entries(),
                                motostate.stream_entries(self.marks), motostate.queue_entries(),
                                self.blobs.entries()):
                    for entry in entries:
                        out.write(json.dumps(entry, ensure_ascii=False, separators=(",", ":")) + "\n")
                out.write(_END.decode())
                out.flush()
                os.fsync(out.fileno())
            tmp.replace(snapshot)
            self._fsync_dir()
            if self._out is not None:
                self._out.close()
            self._out = open(self._path("journal", following), "w", encoding="utf-8")  # noqa: SIM115 - kept open
            self._size = 0
        for path in self.root.iterdir():  # the previous generation, and what an interrupted compaction left
            match = _GENERATION.match(path.name)
            if (match and int(match.group(2)) < following) or path.name.endswith(".jsonl.tmp"):
                path.unlink()
        self.blobs.collect()
        self.generation = following

    def _fsync_dir(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def close(self) -> None:
        self.recording = False
        with self._write_lock:
            if self._out is not None:
                self._out.close()
                self._out = None
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None


def stream_filter(mapping: str = "EventDispatcherStreamMapping") -> Callable[[dict[str, Any]], bool]:
    """Whether the stream mapping's filter (infra) hands a record on: the others are never dispatched."""
    from devstack.emulator import matches, stream_filters
    from devstack.resources import event_source_settings

    filters = stream_filters(event_source_settings(mapping))
    return lambda record: not filters or any(matches(f, record) for f in filters)


class MarkingApp:
    """The app module as the event-source emulator sees it: the same, but its stream dispatcher marks in the
    journal what it got through."""

    def __init__(self, application: Any, journal: Journal, table: str) -> None:
        self._application = application
        self.event_dispatcher = journal.dispatcher(application.event_dispatcher, table)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._application, name)
