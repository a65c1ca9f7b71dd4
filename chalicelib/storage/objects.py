"""Files on S3 (the attachments bucket): presigned uploads whose POST policy pins the key, the type and the size,
reads (whole, streamed or a byte range), writes, short-lived downloads and deletes.

The storage layer's other half beside the table: contexts reach it through a Protocol of their own (the residents'
imports: ``residents.imports.ports.ImportFiles``), wired in the composition root. Every key a tenant's file gets
begins with ``t/<tenant_id>/``, the prefix the functions' policy grants.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Any, BinaryIO
from urllib.parse import quote


@dataclass(frozen=True)
class ObjectInfo:
    size: int
    content_type: str


class ObjectStore:
    """One bucket, one S3 client per container (built on first use, signing with SigV4 on path-style URLs, which
    the local emulator and every region accept)."""

    def __init__(self, bucket: str, *, region: str, endpoint_url: str | None = None) -> None:
        self.bucket = bucket
        self._region = region
        self._endpoint_url = endpoint_url

    @cached_property
    def _s3(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", region_name=self._region, endpoint_url=self._endpoint_url,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def presign_post(self, key: str, content_type: str, max_bytes: int, expires_in: int) -> dict[str, Any]:
        """``{"url", "fields"}`` for a browser's form POST of one file: this key, this type, 1 byte to ``max_bytes``
        (S3 refuses anything else with 403)."""
        return self._s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, max_bytes]],
            ExpiresIn=expires_in)

    def head(self, key: str) -> ObjectInfo | None:
        """Size and type of an object, or None when there is none."""
        from botocore.exceptions import ClientError

        try:
            found = self._s3.head_object(Bucket=self.bucket, Key=key)
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return None
            raise
        return ObjectInfo(int(found["ContentLength"]), found.get("ContentType") or "")

    def open(self, key: str) -> BinaryIO:
        """The object as a stream (read it in pieces; nothing is held in memory beyond what is read)."""
        return self._s3.get_object(Bucket=self.bucket, Key=key)["Body"]

    def read(self, key: str) -> bytes:
        with self.open(key) as body:  # type: ignore[attr-defined]
            return body.read()

    def read_range(self, key: str, start: int, end: int) -> bytes:
        """Bytes ``start`` to ``end`` (exclusive) of an object: one ranged GET."""
        if end <= start:
            return b""
        return self._s3.get_object(Bucket=self.bucket, Key=key, Range=f"bytes={start}-{end - 1}")["Body"].read()

    def put(self, key: str, body: bytes, content_type: str) -> None:
        self._s3.put_object(Bucket=self.bucket, Key=key, Body=body, ContentType=content_type)

    def presign_get(self, key: str, filename: str, expires_in: int) -> str:
        """A download URL that saves as ``filename`` (UTF-8 names kept, RFC 6266)."""
        disposition = f"attachment; filename*=UTF-8''{quote(filename)}"
        return self._s3.generate_presigned_url("get_object", Params={
            "Bucket": self.bucket, "Key": key, "ResponseContentDisposition": disposition}, ExpiresIn=expires_in)

    def delete(self, key: str) -> None:
        self._s3.delete_object(Bucket=self.bucket, Key=key)
