"""The OpenAPI 3 description of ``/api/v1``."""

from __future__ import annotations

from typing import Any

_ERROR = {"$ref": "#/components/schemas/Error"}
_STOP_REF = {
    "oneOf": [
        {"type": "integer", "description": "stop id from /stops"},
        {"type": "string", "description": "stop name"},
        {
            "type": "object",
            "properties": {"lon": {"type": "number"}, "lat": {"type": "number"}},
            "required": ["lon", "lat"],
        },
    ]
}


def _errors(*codes: int) -> dict[str, Any]:
    text = {
        400: "bad input",
        401: "not logged in",
        403: "wrong role",
        404: "not found",
        409: "conflict (expired, taken, already cancelled)",
        413: "body too large",
    }
    return {
        str(c): {"description": text[c], "content": {"application/json": {"schema": _ERROR}}}
        for c in codes
    }


def _ok(description: str, schema: dict[str, Any] | None = None, status: int = 200):
    body = {"description": description}
    if schema:
        body["content"] = {"application/json": {"schema": schema}}
    return {str(status): body}


def _date_param() -> dict[str, Any]:
    return {
        "name": "day",
        "in": "path",
        "required": True,
        "schema": {"type": "string", "format": "date"},
    }


def _code_param() -> dict[str, Any]:
    return {"name": "code", "in": "path", "required": True, "schema": {"type": "string"}}


def openapi_spec() -> dict[str, Any]:
    """Return the API description as a dict (served as JSON)."""
    staff = [{"basic": []}, {"session": []}]
    obj = {"type": "object"}
    return {
        "openapi": "3.0.3",
        "info": {
            "title": "Rufbus API",
            "version": "1",
            "description": "Book on-demand bus rides in the Salzlandkreis; dispatchers manage "
            "the day's plans. Times are local (Europe/Berlin), HH:MM.",
        },
        "servers": [{"url": "/api/v1"}],
        "components": {
            "securitySchemes": {
                "basic": {"type": "http", "scheme": "basic"},
                "session": {"type": "apiKey", "in": "cookie", "name": "session"},
            },
            "schemas": {
                "Error": {
                    "type": "object",
                    "properties": {
                        "error": {
                            "type": "object",
                            "properties": {
                                "field": {"type": "string"},
                                "message": {"type": "string"},
                            },
                            "required": ["field", "message"],
                        }
                    },
                },
                "OfferRequest": {
                    "type": "object",
                    "description": "A feeder trip names `connection` instead of "
                    "`destination`, `time` and `kind`: it must arrive by the departure minus "
                    "the transfer buffer.",
                    "required": ["origin", "date"],
                    "properties": {
                        "connection": {
                            "type": "object",
                            "required": ["stop", "line", "departure"],
                            "properties": {
                                "stop": _STOP_REF,
                                "line": {"type": "string"},
                                "departure": {"type": "string"},
                            },
                        },
                        "origin": _STOP_REF,
                        "destination": _STOP_REF,
                        "date": {"type": "string", "format": "date"},
                        "time": {"type": "string", "pattern": "^[0-2]?[0-9]:[0-5][0-9]$"},
                        "kind": {"type": "string", "enum": ["pickup", "arrival"]},
                        "passengers": {"type": "integer", "minimum": 0},
                        "wheelchairs": {"type": "integer", "minimum": 0},
                    },
                },
                "Offers": {
                    "type": "object",
                    "properties": {
                        "offers": {"type": "array", "items": obj},
                        "reason": {"type": "string"},
                        "message": {"type": "string"},
                        "alternatives": {"type": "array", "items": {"type": "string"}},
                        "scheduled": {
                            "type": "array",
                            "items": obj,
                            "description": "scheduled connections near the wish; with "
                            "reason `scheduled_line` they replace the bus",
                        },
                        "feeders": {
                            "type": "array",
                            "items": obj,
                            "description": "the bus to a hub, then a scheduled line",
                        },
                    },
                },
                "Confirm": {
                    "type": "object",
                    "required": ["offer_id", "name", "phone"],
                    "properties": {
                        "offer_id": {"type": "string"},
                        "return_offer_id": {"type": "string"},
                        "name": {"type": "string"},
                        "phone": {"type": "string"},
                        "note": {"type": "string"},
                    },
                },
                "Booking": obj,
            },
        },
        "paths": {
            "/stops": {
                "get": {
                    "summary": "Search bookable stops by name",
                    "parameters": [
                        {
                            "name": "q",
                            "in": "query",
                            "required": True,
                            "schema": {"type": "string"},
                        },
                        {"name": "limit", "in": "query", "schema": {"type": "integer"}},
                    ],
                    "responses": {**_ok("matching stops", obj), **_errors(400)},
                }
            },
            "/offers": {
                "post": {
                    "summary": "Ask for up to three offers for a trip",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {"$ref": "#/components/schemas/OfferRequest"}
                            }
                        },
                    },
                    "responses": {
                        **_ok(
                            "offers, or the reason there are none and alternative times",
                            {"$ref": "#/components/schemas/Offers"},
                        ),
                        **_errors(400, 413),
                    },
                }
            },
            "/bookings": {
                "post": {
                    "summary": "Confirm an offer (and optionally a linked return offer)",
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {"schema": {"$ref": "#/components/schemas/Confirm"}}
                        },
                    },
                    "responses": {
                        **_ok("the confirmed bookings", obj, 201),
                        **_errors(400, 404, 409, 413),
                    },
                }
            },
            "/bookings/{code}": {
                "parameters": [_code_param()],
                "get": {
                    "summary": "Look up a booking by its code",
                    "responses": {**_ok("the booking", obj), **_errors(404)},
                },
                "delete": {
                    "summary": "Cancel a booking",
                    "responses": {**_ok("the cancelled booking", obj), **_errors(404, 409)},
                },
            },
            "/bookings/{code}/no-show": {
                "parameters": [_code_param()],
                "post": {
                    "summary": "Mark a no-show (dispatcher)",
                    "security": staff,
                    "responses": {**_ok("the booking", obj), **_errors(401, 403, 404, 409)},
                },
            },
            "/plans/{day}": {
                "parameters": [_date_param()],
                "get": {
                    "summary": "The day's plan per vehicle (dispatcher)",
                    "security": staff,
                    "responses": {**_ok("the plan", obj), **_errors(400, 401, 403)},
                },
            },
            "/plans/{day}/optimize": {
                "parameters": [_date_param()],
                "post": {
                    "summary": "Re-optimise the day, keeping every promise (dispatcher)",
                    "security": staff,
                    "responses": {
                        **_ok("before/after KPIs and whether it was stored", obj),
                        **_errors(400, 401, 403),
                    },
                },
            },
            "/kpis/{day}": {
                "parameters": [_date_param()],
                "get": {
                    "summary": "The day's KPIs (dispatcher)",
                    "security": staff,
                    "responses": {**_ok("KPIs", obj), **_errors(400, 401, 403)},
                },
            },
            "/standing": {
                "post": {
                    "summary": "Create a standing booking (dispatcher)",
                    "security": staff,
                    "responses": {**_ok("the booked days", obj, 201), **_errors(400, 401, 403)},
                },
            },
        },
    }
