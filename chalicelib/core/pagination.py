"""The one pagination helper: opaque cursors bound to the tenant and the list that minted them."""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
from typing import Any

from pydantic import ConfigDict, Field

from chalicelib.core.errors import InvalidCursorError
from chalicelib.core.http import list_scope_var
from chalicelib.core.schema import Schema

DEFAULT_LIMIT = 25
MAX_LIMIT = 100


class ListQuery(Schema):
    """``?limit=&cursor=`` of every list route."""

    model_config = ConfigDict(extra="ignore")

    limit: int = Field(DEFAULT_LIMIT, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, max_length=2048)


_KEY_TYPES = ("S", "N", "B")


def _is_attribute(attr: Any) -> bool:
    return (isinstance(attr, dict) and len(attr) == 1 and next(iter(attr)) in _KEY_TYPES
            and isinstance(next(iter(attr.values())), str))


def _is_key(value: Any) -> bool:
    """A key as PynamoDB gives it: a few named attributes, each ``{"S"|"N"|"B": str}``."""
    return (isinstance(value, dict) and 1 <= len(value) <= 4
            and all(isinstance(name, str) and _is_attribute(attr) for name, attr in value.items()))


class CursorCodec:
    """Signs DynamoDB ``LastEvaluatedKey`` values so they can't be forged or moved across tenants or lists.

    A cursor carries its tenant and a digest of the list it came from (``core.http.list_scope_var``, set by
    the HTTP edge: route, path values, principal, filters); anything else on the way back is
    ``invalid_cursor``, never a key handed to DynamoDB for another index.

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

    @staticmethod
    def _scope() -> str:
        return hashlib.sha256(list_scope_var.get().encode()).hexdigest()[:16]

    def encode(self, tenant_id: str, last_key: dict[str, Any] | None) -> str | None:
        if not last_key:
            return None
        payload = json.dumps({"t": tenant_id, "s": self._scope(), "k": last_key}, separators=(",", ":"),
                             sort_keys=True).encode()
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
        if not isinstance(data, dict) or data.get("t") != tenant_id or data.get("s") != self._scope():
            raise InvalidCursorError()
        if not _is_key(data.get("k")):
            raise InvalidCursorError()
        return data["k"]
