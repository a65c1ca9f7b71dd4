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
_ERRORS = {"400": "Malformed request", "401": "Unauthenticated", "403": "Role not allowed", "404": "Not found",
           "409": "Conflict", "412": "Version mismatch", "413": "Body too large",
           "415": "Unsupported media type", "422": "Invalid field",
           "429": "Too many requests"}

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


def _schema(model: Any, components: dict[str, Any]) -> dict[str, Any]:
    schema = model.model_json_schema(ref_template=REF, mode="serialization")
    components.update(schema.pop("$defs", {}))
    components[model.__name__] = schema
    return {"$ref": REF.format(model=model.__name__)}


def build_document(registry: Api) -> dict[str, Any]:
    from pydantic import BaseModel

    components: dict[str, Any] = {"Error": ERROR_SCHEMA}
    paths: dict[str, dict[str, Any]] = {}
    for op in registry.operations:
        operation: dict[str, Any] = {"operationId": op.name, "summary": op.summary, "tags": list(op.tags)}
        params = [{"name": name, "in": "path", "required": True, "schema": {"type": "string"}}
                  for name in re.findall(r"{(\w+)}", op.path)]
        query, body, response = resolve(op.query), resolve(op.body), resolve(op.response)
        if query is not None:
            for name, field in query.model_fields.items():
                params.append({"name": name, "in": "query", "required": field.is_required(),
                               "schema": query.model_json_schema()["properties"][name]})
        if params:
            operation["parameters"] = params
        if body is not None:
            operation["requestBody"] = {"required": True, "content": {
                "application/json": {"schema": _schema(body, components)}}}
        elif "application/json" not in op.content_types:  # a raw body: a file as it is
            operation["requestBody"] = {"required": True, "content": {
                content_type: {"schema": {"type": "string", "contentMediaType": content_type}}
                for content_type in op.content_types}}
        ok: dict[str, Any] = {"description": "Success"}
        if isinstance(response, type) and issubclass(response, BaseModel):
            ok["content"] = {"application/json": {"schema": _schema(response, components)}}
        error = {"application/json": {"schema": {"$ref": REF.format(model="Error")}}}
        operation["responses"] = {str(op.status): ok, **{
            code: {"description": text, "content": error} for code, text in _ERRORS.items()}}
        if op.auth != "public":
            operation["security"] = SECURITY[op.auth]
        if op.permission is not None:
            operation["x-linli-permission"] = op.permission.value
        paths.setdefault(op.path, {})[op.method.lower()] = operation
    return {
        "openapi": "3.1.0",
        "info": {"title": "Linli API", "version": "1.0.0",
                 "description": "Customer-service desk for residential property companies (邻里)."},
        "servers": [{"url": "/"}],
        "paths": paths,
        "components": {"schemas": components, "securitySchemes": SECURITY_SCHEMES},
    }


@lru_cache(maxsize=1)
def document() -> dict[str, Any]:
    return build_document(api)


bp = api.blueprint(__name__)


@api.route(bp, "GET", "/v1/openapi.json", auth="public", tags=("meta",), summary="This document")
def openapi(call: Call) -> dict[str, Any]:
    return document()
