"""The one pagination helper: opaque cursors bound to the tenant that minted them."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from pydantic import ConfigDict, Field

from chalicelib.core.errors import InvalidCursorError
from chalicelib.core.schema import Schema

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class ListQuery(Schema):
    """``?limit=&cursor=`` of every list route."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=2048)


class CursorCodec:
    """Signs DynamoDB ``LastEvaluatedKey`` values so they can't be forged or moved across tenants.

    Example
    -------
    >>> codec = CursorCodec(b"k" * 32)
    >>> cursor = codec.encode("tnt_a", {"PK": {"S": "T#tnt_a"}, "SK": {"S": "USR#1"}})
    >>> codec.decode("tnt_a", cursor)["SK"]
    {'S': 'USR#1'}
    """

    def __init__(self, key: bytes) -> None:
        self._key = key

    def _sign(self, payload: bytes) -> bytes:
        return hmac.new(self._key, payload, hashlib.sha256).digest()[:16]

    def encode(self, tenant_id: str, last_key: dict[str, Any] | None) -> str | None:
        if not last_key:
            return None
        payload = json.dumps({"t": tenant_id, "k": last_key}, separators=(",", ":"), sort_keys=True).encode()
        return base64.urlsafe_b64encode(self._sign(payload) + payload).decode().rstrip("=")

    def page(self, tenant_id: str, results: Any) -> tuple[list[Any], str | None]:
        """Drain one page of a query (``limit`` set) and mint the cursor of the next one."""
        items = list(results)
        return items, self.encode(tenant_id, results.last_evaluated_key)

    def decode(self, tenant_id: str, cursor: str | None) -> dict[str, Any] | None:
        if not cursor:
            return None
        try:
            raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
            signature, payload = raw[:16], raw[16:]
            if not hmac.compare_digest(signature, self._sign(payload)):
                raise InvalidCursorError()
            data = json.loads(payload)
        except (ValueError, TypeError) as exc:
            raise InvalidCursorError() from exc
        if data.get("t") != tenant_id or not isinstance(data.get("k"), dict):
            raise InvalidCursorError()
        return data["k"]
