"""The OpenAPI 3.1 description of the intake API, generated from the pydantic models.

Only the operations (paths, statuses, security) are written here; every schema comes from
`jada.api.schemas`, the same declaration that validates requests and shapes responses.
"""

from __future__ import annotations

import copy
from functools import cache
from typing import Any

from pydantic import BaseModel
from pydantic.json_schema import GenerateJsonSchema, models_json_schema

from jada.api.schemas import Booking, BookingRequest, Errors

REF = "#/components/schemas/{model}"
REQUEST = {"$ref": REF.format(model=BookingRequest.__name__)}


class Document(GenerateJsonSchema):
    """Pydantic's JSON Schema without generated titles or `default: null` on non-null fields."""

    def field_title_should_be_set(self, schema: Any) -> bool:
        return False

    def default_schema(self, schema: Any) -> dict[str, Any]:
        generated = super().default_schema(schema)
        if generated.get("default", ...) is None:
            del generated["default"]
        return generated

    def model_schema(self, schema: Any) -> dict[str, Any]:
        generated = super().model_schema(schema)
        generated.pop("title", None)
        return generated


def _json(model: type[BaseModel], description: str) -> dict[str, Any]:
    schema = {"$ref": REF.format(model=model.__name__)}
    return {"description": description, "content": {"application/json": {"schema": schema}}}


def _errors(description: str) -> dict[str, Any]:
    return _json(Errors, description)


UNAUTHORIZED = "No valid, unrevoked X-Dashboard-Token."
FORBIDDEN = "The token may not do this (a read-only token, or another source's booking)."


@cache
def _document() -> dict[str, Any]:
    _, defs = models_json_schema(
        [(BookingRequest, "validation"), (Booking, "serialization"), (Errors, "serialization")],
        ref_template=REF,
        schema_generator=Document,
    )
    security = [{"DashboardToken": []}]
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "JADA intake API",
            "version": "1.1.0",
            "description": (
                "Bookings in, from marketplaces and the dashboard. Every booking saved here runs "
                "the pipeline: crew event and checklists, crew notifications, the guest page."
            ),
        },
        "paths": {
            "/api/bookings": {
                "post": {
                    "operationId": "bookingUpsert",
                    "summary": "Create or update a booking, keyed on (source, external_ref)",
                    "security": security,
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": REF.format(model="BookingRequest")}
                            }
                        },
                    },
                    "responses": {
                        "201": _json(Booking, "Created: the booking, its guest page and pipeline."),
                        "200": _json(Booking, "It existed: changes applied (or none to apply)."),
                        "400": _errors("Invalid: nothing was written."),
                        "401": _errors(UNAUTHORIZED),
                        "403": _errors(FORBIDDEN),
                        "409": _errors("It cannot exist beside another booking: nothing written."),
                        "411": _errors("A chunked body the server could not read: send a length."),
                        "415": _errors("The body is not JSON (Content-Type: application/json)."),
                    },
                }
            },
            "/api/bookings/{id}": {
                "get": {
                    "operationId": "bookingRead",
                    "summary": "A booking with its current pipeline state",
                    "security": security,
                    "parameters": [
                        {
                            "name": "id",
                            "in": "path",
                            "required": True,
                            "schema": {"type": "integer", "minimum": 1},
                        }
                    ],
                    "responses": {
                        "200": _json(Booking, "The booking."),
                        "401": _errors(UNAUTHORIZED),
                        "404": _errors("No booking with this id."),
                    },
                }
            },
            "/api/openapi.json": {
                "get": {
                    "operationId": "openapi",
                    "summary": "This document",
                    "security": [],
                    "responses": {
                        "200": {
                            "description": "The OpenAPI document.",
                            "content": {"application/json": {"schema": {"type": "object"}}},
                        }
                    },
                }
            },
        },
        "components": {
            "securitySchemes": {
                "DashboardToken": {
                    "type": "apiKey",
                    "in": "header",
                    "name": "X-Dashboard-Token",
                    "description": "A token from `manage.py create_api_token NAME`.",
                }
            },
            "schemas": defs["$defs"],
        },
    }


def openapi_document() -> dict[str, Any]:
    """A copy of the document (callers may add `servers` without touching the original)."""
    return copy.deepcopy(_document())
