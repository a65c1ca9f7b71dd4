"""OpenAPI 3.1, generated from the same pydantic models that validate requests."""
from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from chalicelib.core.http import Api, Call, api, resolve

REF = "#/components/schemas/{model}"
ERROR_SCHEMA = {
    "type": "object", "required": ["error"],
    "properties": {"error": {"type": "object", "required": ["code", "message", "request_id"], "properties": {
        "code": {"type": "string"}, "message": {"type": "string"}, "request_id": {"type": "string"},
        "details": {}}}},
}
# Every operation may answer these, each in the error shape; named so generated clients share one type per status.
_ERRORS = {"400": ("MalformedRequest", "Malformed request"), "401": ("Unauthenticated", "Unauthenticated"),
           "403": ("Forbidden", "Role not allowed"), "404": ("NotFound", "Not found (also: another tenant's)"),
           "409": ("Conflict", "Conflict"), "412": ("VersionMismatch", "Version mismatch (If-Match)"),
           "413": ("PayloadTooLarge", "Body too large"), "415": ("UnsupportedMediaType", "Unsupported media type"),
           "422": ("ValidationFailed", "Invalid field"), "429": ("TooManyRequests", "Too many requests")}
HEADERS = {
    "ETag": {"description": "Strong validator of this representation; send it back as If-None-Match.",
             "schema": {"type": "string"}},
    "Cache-Control": {"description": "How long a client may reuse the answer before revalidating it.",
                      "schema": {"type": "string"}},
    "Retry-After": {"description": "Seconds to wait before trying again.", "schema": {"type": "integer"}},
}
_VALIDATORS = {name: {"$ref": f"#/components/headers/{name}"} for name in ("ETag", "Cache-Control")}
IF_NONE_MATCH = {"name": "If-None-Match", "in": "header", "required": False, "schema": {"type": "string"},
                 "description": "ETags the client holds (or `*`): 304 with no body when one is still current."}
RESPONSES = {
    "NotModified": {"description": "Not modified: the representation named by If-None-Match is current (no body)",
                    "headers": _VALIDATORS},
    **{name: {"description": text, "content": {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}}
       for name, text in _ERRORS.values()},
}
RESPONSES["TooManyRequests"]["headers"] = {"Retry-After": {"$ref": "#/components/headers/Retry-After"}}

SECURITY_SCHEMES = {
    "bearer": {"type": "http", "scheme": "bearer",
               "description": "`Authorization: Bearer …`: a staff or resident access token (JWT), or an API key "
                              "(lk_live_…)."},
    "apiKey": {"type": "apiKey", "in": "header", "name": "X-API-Key",
               "description": "An API key (lk_live_…) as integrators' tools send it; access tokens are refused "
                              "here. With both headers, they must carry the same key (otherwise 401)."},
}
# Each entry is an alternative (OpenAPI ORs the list): resident routes take only a resident's access token.
SECURITY: dict[str, list[dict[str, list[str]]]] = {
    "staff": [{"bearer": []}, {"apiKey": []}],
    "any": [{"bearer": []}, {"apiKey": []}],
    "resident": [{"bearer": []}],
}


def _model(ref: Any) -> Any:
    from pydantic import BaseModel

    model = resolve(ref)
    return model if isinstance(model, type) and issubclass(model, BaseModel) else None


def _model_schemas(registry: Api) -> tuple[dict[tuple[Any, str], dict[str, Any]], dict[str, Any]]:
    """Every model the routes name, in one pass: requests as they are validated, responses as they are serialised.
    Nested models and enums become components of their own (pydantic names apart any two that share a name), so
    every ``$ref`` points into ``components/schemas``."""
    from pydantic.json_schema import models_json_schema

    wanted: dict[tuple[Any, str], None] = {}
    for op in registry.operations:
        for ref, mode in ((op.query, "validation"), (op.body, "validation"), (op.response, "serialization")):
            if (model := _model(ref)) is not None:
                wanted[(model, mode)] = None
    refs, definitions = models_json_schema(list(wanted), ref_template=REF)  # type: ignore[arg-type]
    return refs, definitions.get("$defs", {})


def _query_parameters(schema: dict[str, Any]) -> list[dict[str, Any]]:
    required = set(schema.get("required", ()))
    return [{"name": name, "in": "query", "required": name in required, "schema": field}
            for name, field in schema.get("properties", {}).items()]


def _references(node: Any) -> set[str]:
    if isinstance(node, dict):
        found = {node["$ref"]} if isinstance(node.get("$ref"), str) else set()
        return found.union(*(_references(value) for value in node.values()))
    if isinstance(node, list):
        return set().union(*(_references(value) for value in node))
    return set()


def build_document(registry: Api) -> dict[str, Any]:
    refs, components = _model_schemas(registry)
    components["Error"] = ERROR_SCHEMA
    query_components: set[str] = set()
    paths: dict[str, dict[str, Any]] = {}
    for op in registry.operations:
        operation: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "tags": list(op.tags)}
        params: list[dict[str, Any]] = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                                        for name in re.findall(r"{(\w+)}", op.path)]
        query, body, response = _model(op.query), _model(op.body), _model(op.response)
        if query is not None:  # one parameter per field; its enums and models stay components
            name = refs[(query, "validation")]["$ref"].rsplit("/", 1)[-1]
            query_components.add(name)
            params += _query_parameters(components[name])
        if op.conditional:
            params.append(dict(IF_NONE_MATCH))
        if params:
            operation["parameters"] = params
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": refs[(body, "validation")]}}}
        elif "application/json" not in op.content_types:  # a raw body: a file as it is
            operation["requestBody"] = {"required": True, "content": {
                content_type: {"schema": {"type": "string", "contentMediaType": content_type}}
                for content_type in op.content_types}}
        ok: dict[str, Any] = {"description": "Success"}
        if response is not None:
            ok["content"] = {"application/json": {"schema": refs[(response, "serialization")]}}
        responses: dict[str, Any] = {str(op.status): ok}
        if op.conditional:
            ok["headers"] = _VALIDATORS
            responses["304"] = {"$ref": "#/components/responses/NotModified"}
        responses.update({code: {"$ref": f"#/components/responses/{name}"} for code, (name, _) in _ERRORS.items()})
        operation["responses"] = responses
        if op.auth != "public":
            operation["security"] = SECURITY[op.auth]
        if op.permission is not None:
            operation["x-linli-permission"] = op.permission.value
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    # A query model is spelled out as parameters; it stays a component only where something else refers to it.
    referenced = _references([paths, components])
    for name in query_components - {ref.rsplit("/", 1)[-1] for ref in referenced}:
        del components[name]
    return {
        "openapi": "3.1.0",
        "info": {"title": "Linli API", "version": "1.0.0",
                 "description": "Customer-service desk for residential property companies (邻里)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": dict(sorted(components.items())), "responses": RESPONSES, "headers": HEADERS,
                       "securitySchemes": SECURITY_SCHEMES},
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return build_document(api)


bp = api.blueprint(__name__)


@api.route(bp, "GET", "/v1/openapi.json", auth="public", tags=("meta",),
           response="chalicelib.core.schema:OpenApiDocument", summary="This document")
def openapi(call: Call) -> dict[str, Any]:
    return document()
