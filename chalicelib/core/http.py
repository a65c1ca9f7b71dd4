"""The HTTP edge: one route decorator that parses, authenticates, maps errors and documents.

Every route goes through :meth:`Api.route`, so the error contract, the tenant boundary and
the OpenAPI document cannot drift apart.

Over ~350 lines on purpose: the request pipeline (limits, credentials, body and query parsing, If-Match, cursor
scope, error mapping) is one ordered sequence, and splitting it would hide the order that the security of every
route depends on.
"""
from __future__ import annotations

import base64
import contextvars
import functools
import hashlib
import json
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

from chalice import Blueprint, CORSConfig, Response

from chalicelib.core.auth import API_KEY_PREFIX, constant_time_equal
from chalicelib.core.errors import (
    ForbiddenError,
    LinliError,
    MalformedRequestError,
    PayloadTooLargeError,
    UnauthenticatedError,
    UnsupportedMediaTypeError,
    ValidationFailedError,
)
from chalicelib.core.observability import logger, metrics
from chalicelib.core.permissions import Permission
from chalicelib.core.tenancy import TenantContext

AuthMode = Literal["public", "staff", "resident", "any"]
JSON_CONTENT_TYPE = "application/json; charset=utf-8"
MAX_BODY_BYTES = 1024 * 1024

MAX_JSON_DEPTH = 32
_IF_MATCH = re.compile(r'(?:W/)?(?:"([0-9]{1,9})"|([0-9]{1,9}))', re.ASCII)
_JSON_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)
_JSON_BRACKET = re.compile(rb"[\[\]{}]")
_ENTITY_TAG = re.compile(r'(?:W/)?"([^"]*)"')
# Cache-Control of successful GETs: every client revalidates (ETag → 304) before reusing what it holds; what a
# credential reads is for that client's cache alone. A route that can afford staleness says so (public branding).
REVALIDATE_PRIVATE = "private, no-cache"
REVALIDATE = "no-cache"

request_id_var: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
# The list a request reads: route, path values, principal and query (less cursor and limit). The edge sets it;
# core.pagination signs it into every cursor and checks it on the way back, so a cursor pages only its own list.
list_scope_var: contextvars.ContextVar[str] = contextvars.ContextVar("list_scope", default="")

CORS = CORSConfig(
    allow_origin="*",
    allow_headers=["Authorization", "X-API-Key", "Content-Type", "Idempotency-Key", "If-Match", "If-None-Match"],
    expose_headers=["X-Request-Id", "Retry-After", "ETag"],
    max_age=600,
)


class Authenticator(Protocol):
    def authenticate(self, token: str, request_id: str) -> TenantContext: ...


class Throttle(Protocol):
    """Request limits (``core.ratelimit.RequestThrottle``): each raises ``RateLimitedError`` (429) over the share."""

    def check_source(self, route: str, source_ip: str) -> None: ...

    def check_principal(self, ctx: TenantContext) -> None: ...


@dataclass
class Call:
    """What a route handler receives: the parsed request and, when authenticated, the tenant."""

    ctx: TenantContext | None
    body: Any
    query: Any
    path: dict[str, str]
    headers: dict[str, str]
    request_id: str
    raw_body: bytes = b""
    source_ip: str = "-"  # the caller's address (core.client_address): the viewer's through the web distribution

    @property
    def tenant(self) -> TenantContext:
        if self.ctx is None:
            raise UnauthenticatedError()
        return self.ctx

    @property
    def if_match(self) -> int | None:
        """The version of ``If-Match``: 1–9 ASCII digits, optionally quoted and weak (``W/"3"``); anything else
        (``²``, 5,000 digits, ``"3``) is 400 ``invalid_if_match``, never a 500."""
        raw = self.headers.get("if-match")
        if raw is None:
            return None
        match = _IF_MATCH.fullmatch(raw.strip())
        if match is None:
            raise MalformedRequestError("If-Match must be a resource version number (at most 9 digits).",
                                        code="invalid_if_match")
        return int(match.group(1) or match.group(2))

    @property
    def idempotency_key(self) -> str | None:
        key = self.headers.get("idempotency-key")
        if key is not None and not (1 <= len(key) <= 128 and key.isprintable()):
            raise MalformedRequestError("Idempotency-Key must be 1–128 printable characters.",
                                        code="invalid_idempotency_key")
        return key


ModelRef = Any  # a pydantic model class, or "package.module:Name" imported on first use (cold starts)


@functools.cache
def _import_model(ref: str) -> Any:
    import importlib

    module, _, name = ref.partition(":")
    return getattr(importlib.import_module(module), name)


class ModelRefs:
    """Names models of a module without importing it: ``S = ModelRefs("pkg.schemas"); S.TicketIn``."""

    def __init__(self, module: str) -> None:
        self._module = module

    def __getattr__(self, name: str) -> str:
        return f"{self._module}:{name}"


LIST_QUERY = "chalicelib.core.pagination:ListQuery"


def resolve(ref: ModelRef) -> Any:
    """The model a route names; string references load their module on first use."""
    return _import_model(ref) if isinstance(ref, str) else ref


@dataclass(frozen=True)
class Operation:
    method: str
    path: str
    name: str
    summary: str
    tags: tuple[str, ...]
    auth: AuthMode
    permission: Permission | None
    body: ModelRef | None
    query: ModelRef | None
    response: ModelRef | None
    status: int
    content_types: tuple[str, ...] = ("application/json",)  # what the body may be (a raw body when not JSON)
    cache_control: str | None = None  # successful GETs with a JSON body: sent with their ETag

    @property
    def conditional(self) -> bool:
        """Whether the edge answers this operation with an ``ETag`` (and 304 to a matching ``If-None-Match``)."""
        return self.method == "GET" and self.status == 200 and self.cache_control is not None


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    error: dict[str, Any] = {"code": code, "message": message, "request_id": request_id_var.get()}
    if details is not None:
        error["details"] = details
    return {"error": error}


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    payload = None if body is None else json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    return Response(body=payload if payload is not None else "", status_code=status,
                    headers={"Content-Type": JSON_CONTENT_TYPE, **(headers or {})})


def entity_tag(content: bytes) -> str:
    """The strong ``ETag`` of a response's exact bytes: 162 bits of their SHA-256, quoted. The body carries a
    resource's ``version``, so the tag changes whenever the version does (and whenever anything else shown does).

    Example
    -------
    >>> entity_tag(b'{"id":"tkt_1","version":3}')
    '"uokgHO-izK95JKix5wl6SZ2wLex"'
    >>> entity_tag(b'{"id":"tkt_1","version":4}') != entity_tag(b'{"id":"tkt_1","version":3}')
    True
    """
    return '"' + base64.urlsafe_b64encode(hashlib.sha256(content).digest()).decode()[:27] + '"'


def none_match(if_none_match: str | None, etag: str) -> bool:
    """Whether ``If-None-Match`` names the representation tagged ``etag``, so a GET answers 304 (RFC 9110
    §13.1.2): ``*``, or any listed entity tag equal to it under the weak comparison (``W/`` ignored on both).
    A header that lists no well-formed tag matches nothing: the client gets the full answer.

    Example
    -------
    >>> none_match('"abc"', '"abc"'), none_match('W/"abc"', '"abc"'), none_match('"x", W/"abc" ,"y"', '"abc"')
    (True, True, True)
    >>> none_match("*", '"abc"'), none_match(None, '"abc"'), none_match('"abcd"', '"abc"'), none_match("abc", '"abc"')
    (True, False, False, False)
    """
    if if_none_match is None:
        return False
    if if_none_match.strip() == "*":
        return True
    opaque = etag.removeprefix("W/")
    return any(f'"{tag}"' == opaque for tag in _ENTITY_TAG.findall(if_none_match))


def conditional_json_response(body: Any, if_none_match: str | None, cache_control: str) -> Response:
    """A successful GET's answer: the JSON body with its ``ETag``, or 304 with the ETag and no body when the
    client already holds that representation."""
    payload = json.dumps(body, ensure_ascii=False, separators=(",", ":"))
    headers = {"ETag": entity_tag(payload.encode("utf-8")), "Cache-Control": cache_control}
    if none_match(if_none_match, headers["ETag"]):
        return Response(body="", status_code=304, headers=headers)
    return Response(body=payload, status_code=200, headers={"Content-Type": JSON_CONTENT_TYPE, **headers})


def error_response(error: LinliError) -> Response:
    return json_response(error_body(error.code, error.message, error.details), error.status, error.headers)


def _validation_details(exc: Any) -> list[dict[str, Any]]:
    details = []
    for err in exc.errors(include_url=False, include_input=False):
        details.append({
            "field": ".".join(str(p) for p in err["loc"]) or None,
            "type": err["type"],
            "message": err["msg"],
        })
    return details


def _validate(model: Any, data: Any) -> Any:
    from pydantic import ValidationError

    try:
        return model.model_validate(data)
    except ValidationError as exc:
        raise ValidationFailedError(details=_validation_details(exc)) from exc


def nests_deeper_than(raw: bytes, limit: int) -> bool:
    """Whether the arrays and objects of a JSON text nest deeper than ``limit``, found without parsing it
    (brackets inside strings do not count), so a hostile body is refused before any parser recurses.

    Example
    -------
    >>> nests_deeper_than(b'{"a": [1, {"b": "[[[["}]}', 3), nests_deeper_than(b'[[[[]]]]', 3)
    (False, True)
    >>> nests_deeper_than(b"[" * 1000 + b"]" * 1000, 32)
    True
    """
    if raw.count(b"[") + raw.count(b"{") <= limit:
        return False
    depth = 0
    for bracket in _JSON_BRACKET.finditer(_JSON_STRING.sub(b'""', raw)):
        depth += 1 if bracket.group() in (b"[", b"{") else -1
        if depth > limit:
            return True
    return False


def _parse_json_body(raw: bytes | None, content_type: str | None) -> Any:
    if not raw:
        return {}
    if len(raw) > MAX_BODY_BYTES:
        raise PayloadTooLargeError()
    if content_type and "json" not in content_type.lower():
        raise UnsupportedMediaTypeError()
    if nests_deeper_than(raw, MAX_JSON_DEPTH):
        raise MalformedRequestError(f"The body nests deeper than {MAX_JSON_DEPTH} levels.", code="malformed_json")
    try:
        data = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise MalformedRequestError("The body is not valid JSON.", code="malformed_json") from exc
    if not isinstance(data, dict):
        raise MalformedRequestError("The body must be a JSON object.", code="malformed_json")
    return data


def list_scope(method: str, path: str, path_params: dict[str, str], ctx: TenantContext | None, query: Any) -> str:
    """What a cursor is bound to besides its tenant: the route, its path values, who asks, and the query's
    filters in canonical form (``cursor`` and ``limit`` left out: the page size may change between pages).

    Example
    -------
    >>> list_scope("GET", "/v1/staff", {}, None, None)
    'GET /v1/staff {} - {}'
    """
    filters = {}
    dump = getattr(query, "model_dump", None)
    if callable(dump):
        filters = {k: v for k, v in dump(mode="json").items() if k not in ("cursor", "limit")}
    principal = f"{ctx.principal.kind}:{ctx.principal.id}" if ctx is not None else "-"
    return (f"{method} {path} {json.dumps(path_params, sort_keys=True, ensure_ascii=False)} {principal} "
            f"{json.dumps(filters, sort_keys=True, ensure_ascii=False, default=str)}")


def _serialise(result: Any) -> Any:
    dump = getattr(result, "model_dump", None)
    return dump(mode="json", by_alias=True) if callable(dump) else result


class Api:
    """The route registry: Chalice blueprints plus what OpenAPI needs to know about them."""

    def __init__(self) -> None:
        self.operations: list[Operation] = []
        self.authenticator: Authenticator | None = None
        self.throttle: Throttle | None = None  # set by the composition root; in memory, no round trip
        # the caller's address from the headers and API Gateway's sourceIp (core.client_address.ClientAddress, set
        # by the composition root); unset, sourceIp as it is
        self.client_address: Callable[[dict[str, str], str], str] | None = None

    def blueprint(self, import_name: str) -> Blueprint:
        return Blueprint(import_name)

    def route(self, bp: Blueprint, method: str, path: str, *, summary: str, tags: tuple[str, ...] = (),
              auth: AuthMode = "staff", permission: Permission | None = None,
              body: ModelRef | None = None, query: ModelRef | None = None,
              response: ModelRef | None = None, status: int = 200,
              content_types: tuple[str, ...] = ("application/json",), cache_control: str | None = None,
              ) -> Callable[[Callable[[Call], Any]], Callable[..., Response]]:
        """Register a route. A GET answering 200 with a model sends an ``ETag`` and answers a matching
        ``If-None-Match`` with 304; ``cache_control`` overrides its ``Cache-Control`` (by default every client
        revalidates, and what a credential reads is private). The handler's name is the operation's
        ``operationId``, so it must be unique."""
        if method == "GET" and status == 200 and response is not None:
            cache_control = cache_control or (REVALIDATE if auth == "public" else REVALIDATE_PRIVATE)

        def decorator(handler: Callable[[Call], Any]) -> Callable[..., Response]:
            if any(op.name == handler.__name__ for op in self.operations):
                raise ValueError(f"two routes are named {handler.__name__}: a handler's name is its operationId")
            operation = Operation(method, path, handler.__name__, summary, tags, auth, permission, body, query,
                                  response, status, tuple(content_types), cache_control)
            self.operations.append(operation)

            @functools.wraps(handler)
            def view(**path_params: str) -> Response:
                request = bp.current_request
                try:
                    headers = {k.lower(): v for k, v in (request.headers or {}).items()}
                    request_id = request_id_var.get()
                    source_ip = ((request.context or {}).get("identity") or {}).get("sourceIp") or "-"
                    if self.client_address is not None:
                        source_ip = self.client_address(headers, source_ip)
                    if auth == "public" and self.throttle is not None:  # before parsing, lookups or hashing
                        self.throttle.check_source(path, source_ip)
                    ctx = self._authenticate(auth, headers, request_id)
                    if ctx is not None:
                        logger.thread_safe_append_keys(tenant_id=ctx.tenant_id)
                        if self.throttle is not None:  # the tenant's (and API key's) share, from memory
                            self.throttle.check_principal(ctx)
                        if permission is not None:
                            ctx.require(permission)
                    parsed_body = None
                    if body is not None:
                        parsed_body = _validate(resolve(body), _parse_json_body(request.raw_body,
                                                                                headers.get("content-type")))
                    parsed_query = _validate(resolve(query), dict(request.query_params or {})) if query else None
                    raw = request.raw_body or b""
                    if len(raw) > MAX_BODY_BYTES:
                        raise PayloadTooLargeError()
                    call = Call(ctx, parsed_body, parsed_query, path_params, headers, request_id, raw,
                                source_ip=source_ip)
                    scope = list_scope_var.set(list_scope(method, path, path_params, ctx, parsed_query))
                    try:
                        result = handler(call)
                    finally:
                        list_scope_var.reset(scope)
                except LinliError as exc:
                    return error_response(exc)
                if isinstance(result, Response):
                    return result
                if result is None:
                    return json_response(None, 204)
                if operation.conditional:
                    return conditional_json_response(_serialise(result), headers.get("if-none-match"),
                                                     operation.cache_control)
                return json_response(_serialise(result), status)

            bp.route(path, methods=[method], cors=CORS, content_types=list(content_types))(view)
            return view

        return decorator

    def _authenticate(self, auth: AuthMode, headers: dict[str, str], request_id: str) -> TenantContext | None:
        if auth == "public":
            return None
        token = presented_credential(headers)
        if self.authenticator is None:
            raise UnauthenticatedError()
        ctx = self.authenticator.authenticate(token, request_id)
        kind = ctx.principal.kind
        if auth == "staff" and kind not in ("staff", "api_key"):
            raise ForbiddenError()
        if auth == "resident" and kind != "resident":
            raise ForbiddenError()
        return ctx


def presented_credential(headers: dict[str, str]) -> str:
    """The one credential a request presents: ``Authorization: Bearer <token>`` (an access token or an API key)
    or ``X-API-Key: lk_live_…`` (API keys only, as integrators' tools send them). Both headers are accepted
    together only when they carry the same key: two different credentials are refused, never chosen between.

    Example
    -------
    >>> presented_credential({"x-api-key": "lk_live_abc"})
    'lk_live_abc'
    >>> presented_credential({"authorization": "Bearer lk_live_abc", "x-api-key": "lk_live_abc"})
    'lk_live_abc'
    >>> presented_credential({"authorization": "Bearer eyJ.a.b", "x-api-key": "lk_live_abc"})
    Traceback (most recent call last):
    ...
    chalicelib.core.errors.UnauthenticatedError: Authorization and X-API-Key carry different credentials; send one.
    """
    bearer = None
    if "authorization" in headers:
        scheme, _, token = headers["authorization"].partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise UnauthenticatedError()
        bearer = token.strip()
    if "x-api-key" not in headers:
        if bearer is None:
            raise UnauthenticatedError()
        return bearer
    key = headers["x-api-key"].strip()
    if not key.startswith(API_KEY_PREFIX):
        raise UnauthenticatedError("X-API-Key takes an API key (lk_live_…); send access tokens as "
                                   "Authorization: Bearer.")
    if bearer is not None and not constant_time_equal(bearer, key):
        raise UnauthenticatedError("Authorization and X-API-Key carry different credentials; send one.")
    return key


api = Api()


def _normalise_chalice_error(response: Response) -> Response:
    """Chalice's own errors ({"Code", "Message"}) take our shape too."""
    body = response.body
    if isinstance(body, dict) and "Code" in body and "Message" in body:
        codes = {400: "malformed_request", 403: "forbidden", 404: "route_not_found", 405: "method_not_allowed",
                 413: "payload_too_large", 415: "unsupported_media_type", 500: "internal_error"}
        code = codes.get(response.status_code, "error")
        message = body["Message"] if response.status_code < 500 else "An internal error occurred."
        headers = {k: v for k, v in response.headers.items() if k.lower() != "content-type"}
        return json_response(error_body(code, message), response.status_code, headers)
    return response


def http_middleware(event: Any, get_response: Callable[[Any], Response]) -> Response:
    """Per request: a request id, clean logger state, size limit, and no stack trace ever leaks."""
    context = getattr(event, "context", None) or {}
    request_id = context.get("requestId") or str(uuid.uuid4())
    started = time.perf_counter()
    token = request_id_var.set(request_id)
    logger.thread_safe_clear_keys()
    logger.thread_safe_append_keys(request_id=request_id, route=context.get("resourcePath"),
                                   method=getattr(event, "method", None))
    try:
        raw = getattr(event, "raw_body", b"") or b""
        if len(raw) > MAX_BODY_BYTES:
            response = error_response(PayloadTooLargeError())
        else:
            try:
                response = _normalise_chalice_error(get_response(event))
            except LinliError as exc:
                response = error_response(exc)
        response.headers["X-Request-Id"] = request_id
        metrics.add_metric(name=f"Http{response.status_code // 100}xx", unit="Count", value=1)
        elapsed_ms = round((time.perf_counter() - started) * 1000, 1)
        log = logger.error if response.status_code >= 500 else logger.info
        log("request completed", extra={"status": response.status_code, "duration_ms": elapsed_ms})
        return response
    finally:
        request_id_var.reset(token)
        logger.thread_safe_clear_keys()
