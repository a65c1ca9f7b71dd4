"""The embedded stack's S3 objects (photos), kept beside the journal.

Each body is stored once, as a file named by its SHA-256 in ``<data dir>/blobs/``; journal and snapshot
entries only name it (``{"t": "s3", …, "put": [{"key", "sha256", "metadata"}], "remove": [keys]}``), so
a photo is written once however often the journal is compacted. Changes are found by comparing the
buckets before and after each S3 write, whatever the request was (a presigned POST, a PUT, a delete, a
multipart upload completed). Compaction deletes the files no entry names any more.
"""
from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

Objects = dict[tuple[str, str, str], dict[str, Any]]  # (account, partition, bucket) → {key: moto's FakeKey}
DIGEST = re.compile(r"^[0-9a-f]{64}(\.tmp)?$")


def bucket_objects() -> Objects:
    from moto.s3.models import s3_backends

    found = {}
    for account, partitions in list(s3_backends.items()):
        for partition, backend in list(partitions.items()):
            for name, bucket in list(backend.buckets.items()):
                found[(account, partition, name)] = dict(bucket.keys.items())
    return found


class Blobs:
    def __init__(self, data_dir: Path) -> None:
        self.root = data_dir / "blobs"
        self._named: set[str] = set()  # what the snapshot being written names

    def _keep(self, key: str, stored: Any) -> dict[str, Any]:
        value = stored.value
        digest = hashlib.sha256(value).hexdigest()
        path = self.root / digest
        if not path.exists():
            self.root.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_bytes(value)
            tmp.replace(path)
        self._named.add(digest)
        return {"key": key, "sha256": digest, "metadata": dict(stored.metadata)}

    def changes(self, before: Objects, after: Objects) -> list[dict[str, Any]]:
        """The ``s3`` entries of what a request changed."""
        entries = []
        for where in sorted(set(before) | set(after)):
            old, new = before.get(where, {}), after.get(where, {})
            put = [self._keep(k, v) for k, v in new.items() if old.get(k) is not v]
            removed = [k for k in old if k not in new]
            if put or removed:
                account, partition, bucket = where
                entries.append({"t": "s3", "account": account, "partition": partition, "bucket": bucket,
                                "put": put, "remove": removed})
        return entries

    def entries(self) -> Iterator[dict[str, Any]]:
        """Every object, for a snapshot; what they name is what :meth:`collect` keeps."""
        self._named = set()
        yield from self.changes({}, bucket_objects())

    def collect(self) -> None:
        """Delete the files the last snapshot does not name (nothing else can: it was just written)."""
        if self.root.is_dir():
            for path in self.root.iterdir():
                if DIGEST.match(path.name) and path.name not in self._named:
                    path.unlink()

    def restore(self, entry: dict[str, Any]) -> bool:
        from moto.s3.models import s3_backends

        backend = s3_backends[entry["account"]][entry["partition"]]
        if entry["bucket"] not in backend.buckets:
            return False
        for key in entry["remove"]:
            backend.delete_object(entry["bucket"], key)
        for kept in entry["put"]:
            stored = backend.put_object(entry["bucket"], kept["key"], (self.root / kept["sha256"]).read_bytes())
            stored.set_metadata(dict(kept["metadata"]))
        return True


def remove_blobs(data_dir: Path) -> int:
    """``make reset``: the blob files (and their directory when that empties it); how many went."""
    root, removed = data_dir / "blobs", 0
    if root.is_dir():
        for path in root.iterdir():
            if DIGEST.match(path.name):
                path.unlink()
                removed += 1
        if not any(root.iterdir()):
            os.rmdir(root)
    return removed
