"""Photos on S3: presigned uploads (type and size enforced by the POST policy) and short-lived downloads.

An I/O adapter (boto3), like a repository: the ticket services reach it through ``ports.AttachmentSigner``.
"""
from __future__ import annotations

from functools import cached_property
from typing import Any

from chalicelib.core.settings import Settings

UPLOAD_SECONDS = 600
DOWNLOAD_SECONDS = 300


def object_key(tenant_id: str, attachment_id: str) -> str:
    return f"t/{tenant_id}/att/{attachment_id}"


class AttachmentStore:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self.bucket = settings.attachments_bucket

    @cached_property
    def _s3(self) -> Any:
        import boto3
        from botocore.config import Config

        return boto3.client("s3", region_name=self._settings.region, endpoint_url=self._settings.aws_endpoint_url,
                            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}))

    def key_for(self, tenant_id: str, attachment_id: str) -> str:
        return object_key(tenant_id, attachment_id)

    def presign_upload(self, tenant_id: str, attachment_id: str, content_type: str, size: int) -> dict[str, Any]:
        key = object_key(tenant_id, attachment_id)
        return self._s3.generate_presigned_post(
            Bucket=self.bucket, Key=key, Fields={"Content-Type": content_type},
            Conditions=[{"Content-Type": content_type}, ["content-length-range", 1, size]],
            ExpiresIn=UPLOAD_SECONDS)

    def presign_download(self, tenant_id: str, attachment_id: str) -> str:
        key = object_key(tenant_id, attachment_id)
        return self._s3.generate_presigned_url("get_object", Params={"Bucket": self.bucket, "Key": key},
                                               ExpiresIn=DOWNLOAD_SECONDS)
