"""``/api/v1/openapi.json``, built from the route table and the same pydantic models that
validate requests, so the document describes exactly what is implemented."""

from __future__ import annotations

import functools
import re
from collections.abc import Sequence
from typing import Any

from pydantic import BaseModel, TypeAdapter
from pydantic.json_schema import models_json_schema

from gateway.api.framework import PREFIX, Route

_PARAM = re.compile(r"\{(\w+)\}")
_INT_PARAMS = {"held_id", "appeal_id", "flag_id", "adjustment_id", "seq"}
_ERRORS = {
    "400": "Malformed input (not JSON, not UTF-8, no body)",
    "401": "No token, or not a valid one",
    "403": "The user's role does not allow this, or a lifecycle rule forbids this user",
    "404": "No such thing",
    "409": "Conflicts with the current state or a newer version (If-Match), or stored "
    "content no longer matches the SHA-256 its evidence record carries",
    "413": "The body is too large",
    "415": "The body is not JSON",
    "422": "Invalid input; each field at fault is named",
}
ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["error"],
    "properties": {
        "error": {
            "type": "object",
            "required": ["status", "title", "message", "fields"],
            "properties": {
                "status": {"type": "integer"},
                "title": {"type": "string"},
                "message": {"type": "string"},
                "fields": {
                    "type": "array",
                    "items": {
                        "type": "object",
                        "required": ["field", "reason"],
                        "properties": {
                            "field": {"type": "string"},
                            "reason": {"type": "string"},
                        },
                    },
                },
            },
        }
    },
}


def _schema(adapter_type: Any, mode: str, defs: dict[str, Any]) -> dict[str, Any]:
    """An inline schema for a type that is not a BaseModel (``dict``, ``Page[...]``)."""
    schema = TypeAdapter(adapter_type).json_schema(
        mode=mode,  # type: ignore[arg-type]
        ref_template="#/components/schemas/{model}",
    )
    defs.update(schema.pop("$defs", {}))
    return schema


@functools.cache
def openapi_for(routes: tuple[Route, ...]) -> dict[str, Any]:
    """``build_openapi(routes)``, built once per process for each route table.

    The document is a pure function of the routes and the pydantic models they name,
    and takes about a tenth of a second to build: a process that builds many gateways
    (the tests build hundreds) shares one. It is only ever read (served as JSON)."""
    return build_openapi(routes)


def build_openapi(routes: Sequence[Route]) -> dict[str, Any]:
    models: list[tuple[type[BaseModel], Any]] = []
    for route in routes:
        for model, mode in ((route.body, "validation"), (route.query, "validation")):
            if isinstance(model, type) and issubclass(model, BaseModel):
                models.append((model, mode))
        if isinstance(route.response, type) and issubclass(route.response, BaseModel):
            models.append((route.response, "serialization"))
    keys, top = models_json_schema(models, ref_template="#/components/schemas/{model}")
    schemas: dict[str, Any] = dict(top.get("$defs", {}))
    schemas["Error"] = ERROR_SCHEMA
    paths: dict[str, Any] = {}
    for route in routes:
        op = _operation(route, keys, schemas)
        paths.setdefault(route.full_path, {})[route.method.lower()] = op
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "contact-gateway administration API",
            "version": "1",
            "description": "Restrictions, their lifecycle, held contact, evidence and audit. "
            "Send 'Authorization: Bearer <token>' (contact-gateway users add ...).",
        },
        "servers": [{"url": "/"}],
        "security": [{"bearer": []}],
        "paths": paths,
        "components": {
            "schemas": schemas,
            "securitySchemes": {"bearer": {"type": "http", "scheme": "bearer"}},
        },
    }


def _ref(keys: dict[Any, Any], model: Any, mode: str) -> dict[str, Any]:
    return dict(keys[(model, mode)])


def _operation(route: Route, keys: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    params: list[dict[str, Any]] = [
        {
            "name": name,
            "in": "path",
            "required": True,
            "schema": {"type": "integer", "minimum": 0}
            if name in _INT_PARAMS
            else {"type": "string", "minLength": 1},
        }
        for name in _PARAM.findall(route.path)
    ]
    if route.query is not None:
        schema = _ref_schema(route.query, keys, schemas)
        required = set(schema.get("required", []))
        for name, prop in schema.get("properties", {}).items():
            params.append(
                {"name": name, "in": "query", "required": name in required, "schema": prop}
            )
    if route.if_match:
        params.append(
            {
                "name": "If-Match",
                "in": "header",
                "required": False,
                "description": "The ETag read; a newer version gives 409",
                "schema": {"type": "string"},
            }
        )
    op: dict[str, Any] = {
        "operationId": f"{route.method.lower()}_{_opname(route.path)}",
        "summary": route.summary,
        "tags": [route.tag],
        "x-permission": route.permission.value,
        "parameters": params,
        "responses": _responses(route, keys, schemas),
    }
    if route.body is not None:
        op["requestBody"] = {
            "required": True,
            "content": {"application/json": {"schema": _ref(keys, route.body, "validation")}},
        }
    return op


def _ref_schema(model: Any, keys: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    ref = keys[(model, "validation")]["$ref"]
    return dict(schemas[ref.rsplit("/", 1)[1]])


def _responses(route: Route, keys: dict[Any, Any], schemas: dict[str, Any]) -> dict[str, Any]:
    responses: dict[str, Any] = {}
    if route.response is None:
        responses[str(route.status)] = {"description": "Done"}
    else:
        if isinstance(route.response, type) and issubclass(route.response, BaseModel):
            schema = _ref(keys, route.response, "serialization")
        else:
            schema = _schema(route.response, "serialization", schemas)
        content: dict[str, Any] = {"application/json": {"schema": schema}}
        for media in route.downloads:
            content[media] = {"schema": {"type": "string"}}
        headers = {"ETag": {"schema": {"type": "string"}}}
        responses[str(route.status)] = {"description": "OK", "content": content, "headers": headers}
        if route.path == "/contacts":  # a contact recorded before is answered 200
            responses["200"] = {"description": "Already recorded", "content": content}
    error = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/Error"}}}}
    for code, description in _ERRORS.items():
        responses[code] = {"description": description, **error}
    responses["503"] = {"description": "The database or mail delivery is unavailable", **error}
    return responses


def _opname(path: str) -> str:
    cleaned = path.strip("/").replace("{", "").replace("}", "").replace("-", "_")
    return cleaned.replace("/", "_") or "root"


def api_paths(document: dict[str, Any]) -> set[tuple[str, str]]:
    """(METHOD, path) pairs the document describes, for checking it against the router."""
    return {
        (method.upper(), path)
        for path, ops in document["paths"].items()
        for method in ops
        if path.startswith(PREFIX)
    }
