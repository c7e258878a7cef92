"""Builds the FastAPI application: /health, /docs (offline), /openapi.json and /api/v1."""

from __future__ import annotations

import asyncio
import concurrent.futures
from collections.abc import Callable
from typing import Any, TypeVar

from fastapi import FastAPI
from fastapi.responses import HTMLResponse

from station import __version__
from station.net.api import errors, routes
from station.net.api.docs import DOCS_HTML
from station.net.api.guard import ApiGuard, BodyLimit
from station.net.api.routes import Services
from station.net.api.schemas import Health
from station.net.integrations import Integrations

T = TypeVar("T")

DESCRIPTION = """Embedded API of a Station, compatible with the PassEngine API and webhooks.

Lists are newest first with cursor pagination (`nextCursor`). Errors are JSON
`{"error", "message"}`. Every response to /api/ carries `RateLimit-*` headers."""


def create_app(services: Services, integrations: Integrations, station_id: str,
               executor: concurrent.futures.Executor | None = None) -> FastAPI:
    """`executor` runs the blocking service calls. A small fixed pool is best: each of its
    threads keeps one SQLite reader connection for the life of the station."""
    pool = executor or concurrent.futures.ThreadPoolExecutor(4, thread_name_prefix="api-worker")

    async def run(func: Callable[..., T], *args: Any, **kwargs: Any) -> T:
        return await asyncio.get_running_loop().run_in_executor(pool, lambda: func(*args, **kwargs))

    app = FastAPI(title="Station API", version=__version__, description=DESCRIPTION,
                  docs_url=None, redoc_url=None)  # FastAPI's docs pages load assets from a CDN
    errors.install(app)

    @app.get("/health", response_model=Health, tags=["meta"], summary="Liveness (no key needed)")
    async def health() -> Any:
        return {"status": "ok", "stationId": station_id, "version": __version__}

    @app.get("/docs", response_class=HTMLResponse, include_in_schema=False)
    async def docs() -> HTMLResponse:
        return HTMLResponse(DOCS_HTML)

    app.include_router(routes.build(services, integrations, run))
    # Added innermost first: the catch-all wraps the body limit, which wraps the guard, which
    # wraps the routes.
    app.add_middleware(ApiGuard, keys=integrations.keys, run=run)
    app.add_middleware(BodyLimit)
    app.add_middleware(errors.CatchAll)
    app.state.executor = pool
    return app
