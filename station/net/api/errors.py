"""Every error is JSON `{"error", "message", "details"?}` with a message a person can act on."""

from __future__ import annotations

import logging
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException
from starlette.routing import Match
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from station.domain.errors import (Conflict, InvalidInput, NotFound, StationError, StorageCause,
                                   StorageError)
from station.net.api import inputs

log = logging.getLogger(__name__)

CODES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found",
         405: "method_not_allowed", 409: "conflict", 413: "too_large", 415: "unsupported_media_type",
         422: "invalid", 429: "rate_limited", 500: "internal_error", 503: "unavailable",
         507: "insufficient_storage"}

INTERNAL_ERROR = ("The station hit an internal error; the request was not completed. Try again; "
                  "if it persists, send the station log.")

def error_response(status: int, message: str, *, details: list[dict[str, Any]] | None = None,
                   headers: dict[str, str] | None = None) -> JSONResponse:
    body: dict[str, Any] = {"error": CODES.get(status, "error"), "message": message}
    if details:
        body["details"] = details
    return JSONResponse(body, status_code=status, headers=headers)


class TooLarge(HTTPException):
    def __init__(self, limit: int) -> None:
        super().__init__(413, f"The request body is larger than {limit // 1024} KiB; send less.")


def _field(loc: tuple[Any, ...]) -> str:
    parts = [str(p) for p in loc if p not in ("body", "query", "path", "header")]
    return ".".join(parts) or "body"


def _validation_message(errors: list[dict[str, Any]]) -> tuple[int, str]:
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        return 400, "The request body is not valid JSON; check quotes, commas and brackets."
    pieces = []
    for err in errors[:3]:
        where = _field(tuple(err.get("loc", ())))
        kind = err.get("type", "")
        sentence = inputs.pattern_message(str(err.get("ctx", {}).get("pattern", "")))
        if kind == "extra_forbidden":
            pieces.append(f"'{where}' is not a field this API knows; remove it")
        elif kind == "missing":
            pieces.append(f"'{where}' is required")
        elif kind == "string_pattern_mismatch" and sentence:
            pieces.append(f"'{where}': {sentence}")
        elif kind == "url":  # already a sentence that names targetUrl
            pieces.append(str(err.get("msg", "")))
        else:
            pieces.append(f"'{where}': {str(err.get('msg', 'invalid value')).rstrip('.')}")
    return 422, "; ".join(pieces) + "."


METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS")


def _allowed_methods(request: Request) -> list[str]:
    """Every method some route of this path takes. Starlette's own 405 names only the methods
    of the first route whose path matched, while e.g. GET and POST /api/v1/passes are two.
    Each method is tried against the routes (FastAPI nests included routers, so asking the
    routes is the one way that sees them all)."""
    return [method for method in METHODS
            if any(route.matches({**request.scope, "method": method})[0] is Match.FULL
                   for route in request.app.router.routes)]


def install(app: FastAPI) -> None:
    @app.exception_handler(RequestValidationError)
    async def on_validation(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = list(exc.errors())
        status, message = _validation_message(errors)
        details = [{"field": _field(tuple(e.get("loc", ()))), "problem": str(e.get("msg", ""))}
                   for e in errors[:10]]
        return error_response(status, message, details=details)

    @app.exception_handler(HTTPException)
    async def on_http(request: Request, exc: HTTPException) -> JSONResponse:
        message = exc.detail if isinstance(exc.detail, str) else CODES.get(exc.status_code, "error")
        if exc.status_code == 404 and message == "Not Found":
            message = f"There is no {request.url.path[:100]} here; see /docs for the API's paths."
        headers = getattr(exc, "headers", None)
        if exc.status_code == 405:
            allowed = _allowed_methods(request)
            message = (f"{request.method} is not allowed on {request.url.path[:100]}; "
                       f"use {', '.join(allowed)}.")
            headers = {**(headers or {}), "Allow": ", ".join(allowed)}
        return error_response(exc.status_code, message, headers=headers)

    @app.exception_handler(StationError)
    async def on_station_error(request: Request, exc: StationError) -> JSONResponse:
        if isinstance(exc, StorageError):
            return storage_error_response(exc)
        if isinstance(exc, NotFound):
            return error_response(404, str(exc))
        if isinstance(exc, Conflict):
            return error_response(409, str(exc))
        if isinstance(exc, InvalidInput):
            return error_response(422, str(exc))
        return error_response(400, str(exc))


def storage_error_response(exc: StorageError) -> JSONResponse:
    """507 Insufficient Storage for a full disk, 503 for the others; `error` names the cause
    (`storage_full`, `storage_read_only`, …) so a client can tell them apart."""
    status = 507 if exc.cause is StorageCause.FULL else 503
    return JSONResponse({"error": str(exc.cause), "message": str(exc)}, status_code=status)


class CatchAll:
    """Outermost of the app's middleware: an exception that no handler took becomes the JSON
    500 here and goes no further. Starlette's own last resort (ServerErrorMiddleware) answers
    too but then re-raises, and uvicorn closes the connection after an exception: every 500
    used to reset the client's keep-alive connection."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = False

        async def tracked(message: Message) -> None:
            nonlocal started
            started = started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, receive, tracked)
        except Exception as exc:
            if started:
                raise  # half a response was sent: only closing the connection can tell
            if isinstance(exc, StorageError):  # raised outside the routes (e.g. the key check)
                await storage_error_response(exc)(scope, receive, send)
                return
            log.exception("API request %s %s failed", scope.get("method"), scope.get("path"))
            await error_response(500, INTERNAL_ERROR)(scope, receive, send)
