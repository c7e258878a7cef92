"""The /api/v1 resources. Each handler checks its input, then calls a service on a worker
thread (`run`), so the event loop never waits on the disk."""

from __future__ import annotations

import dataclasses
from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Depends, Path, Query, Request, Response
from fastapi.security import HTTPBearer

from station.domain.door import Door, parse_direction
from station.domain.errors import InvalidInput
from station.domain.models import Source
from station.domain.times import normalize_iso
from station.net.api import inputs as i
from station.net.api.list_routes import add_list_routes
from station.net.api import schemas as s
from station.net.integrations import Integrations
from station.net.sync.membership import organisation_id
from station.services import validation
from station.services.clients import ClientService
from station.services.context import station_name
from station.services.lists import ListService
from station.services.venue import VenueService
from station.services.passes import PassService
from station.services.scans import ScanService
from station.store.db import Store
from station.store.sync import SyncLedger
from station.store.apikeys import ApiKey

Run = Callable[..., Awaitable[Any]]

ERRORS: dict[int | str, dict[str, Any]] = {
    status: {"model": s.ErrorOut, "description": text}
    for status, text in ((400, "Bad request (e.g. malformed JSON)."),
                         (401, "Missing, malformed, unknown or revoked API key."),
                         (404, "Not found."), (409, "Conflict with the current state."),
                         (413, "Body too large."), (422, "Invalid input."),
                         (429, "Rate limited; see Retry-After."),
                         (503, "The station's storage cannot be written now (read-only, I/O "
                               "error, locked); `error` names the cause."),
                         (507, "The station's disk is full (`error`: storage_full); nothing "
                               "was changed."))
}

MAX_PAGE = 100


def _page_limit(limit: Annotated[int, Query(
        ge=1, description=f"Items per page; more than {MAX_PAGE} is taken as {MAX_PAGE}.")] = 50) -> int:
    # Capped rather than refused: Zapier and other clients ask for more than the vendor's 100.
    return min(limit, MAX_PAGE)


Limit = Annotated[int, Depends(_page_limit)]
Cursor = Annotated[str | None, Query(max_length=64, pattern=i.PAGE_CURSOR,
                                     description="nextCursor of the previous page.")]
TriggerCursor = Annotated[str | None, Query(max_length=100, pattern=i.TRIGGER_CURSOR,
                                            description="X-Next-Cursor of the previous page.")]
Since = Annotated[i.Time | None,
                  Query(description="A time with its time zone, e.g. 2026-06-01T18:00:00Z.")]
Ref = Annotated[str, Path(min_length=1, max_length=64, pattern=i.REQUIRED_TEXT,
                          description="Pass id or 12-character code.")]
Id = Annotated[str, Path(min_length=1, max_length=64)]

# Declares the bearer scheme in the OpenAPI document; the ApiGuard middleware does the checking.
bearer = HTTPBearer(auto_error=False, description="An API key: `2pk_…`")


def _by(request: Request) -> str:
    key: ApiKey = request.state.api_key
    return f"api:{key.name}"


def _since(value: str | None) -> str | None:
    return normalize_iso(value) if value else None


@dataclasses.dataclass(frozen=True)
class Services:
    """What the routes call (the core's services; built by the composition root)."""

    passes: PassService
    scans: ScanService
    clients: ClientService
    store: Store
    # The sync client's status() when this station syncs; None without a hub.
    sync_status: Callable[[], dict[str, Any]] | None = None
    lists: ListService | None = None  # check-in lists and occupancy (issue 14)
    venue: VenueService | None = None  # the venue's time zone and daily check-out (with lists)


def build(core: Services, integrations: Integrations, run: Run) -> APIRouter:
    api = APIRouter(prefix="/api/v1", dependencies=[Depends(bearer)], responses=ERRORS)

    # --- passes ----------------------------------------------------------------------------
    @api.post("/passes", status_code=201, response_model=s.PassOut, tags=["passes"],
              summary="Create Pass")
    async def create_pass(body: s.PassCreate, request: Request) -> Any:
        def work() -> dict[str, Any]:
            new = core.passes.validate(body.name, body.type, body.maxUses, body.validFrom,
                                       body.validUntil, body.clientId, body.fields,
                                       body.attention)
            if body.email is not None:
                new = dataclasses.replace(new, email=validation.email(body.email))
            return core.passes.create(new, by=_by(request)).to_api()
        return await run(work)

    @api.get("/passes", response_model=s.PassPage, tags=["passes"], summary="List passes, newest first")
    async def list_passes(limit: Limit, cursor: Cursor = None,
                          status: s.PassStatusName | None = None,
                          type: s.PassTypeName | None = None,
                          search: Annotated[str | None,
                                            Query(max_length=200, pattern=i.TEXT)] = None) -> Any:
        page = await run(core.passes.list, status=status, type_=type, search=search, limit=limit,
                         cursor=cursor)
        return {"items": [p.to_api() for p in page.items], "nextCursor": page.next_cursor}

    @api.get("/passes/{ref}", response_model=s.PassOut, tags=["passes"], summary="Get a pass by id or code")
    async def get_pass(ref: Ref) -> Any:
        return (await run(core.passes.get, ref)).to_api()

    @api.patch("/passes/{ref}", response_model=s.PassOut, tags=["passes"],
               summary="Change a pass's note for the door",
               description="Only `attention` can change; every door gets the new note. The same "
                           "note again changes nothing.")
    async def change_pass(ref: Ref, body: s.PassChange, request: Request) -> Any:
        return (await run(core.passes.set_attention, ref, body.attention,
                          by=_by(request))).to_api()

    @api.post("/passes/{ref}/activate", response_model=s.PassOut, tags=["passes"],
              summary="Activate Pass (re-activate a revoked pass)",
              description="An active pass is answered as it is (a replay changes nothing); a used "
                          "or expired one is refused with 409.")
    async def activate_pass(ref: Ref, request: Request) -> Any:
        return (await run(core.passes.activate, ref, by=_by(request))).to_api()

    @api.post("/passes/{ref}/revoke", response_model=s.PassOut, tags=["passes"], summary="Revoke Pass",
              description="A revoked pass is answered as it is (a replay changes nothing).")
    async def revoke_pass(ref: Ref, request: Request,
                          body: Annotated[s.RevokeBody | None, Body()] = None) -> Any:
        reason = body.reason if body else None
        return (await run(core.passes.revoke, ref, reason=reason, by=_by(request))).to_api()

    # --- scans -----------------------------------------------------------------------------
    @api.post("/scans", status_code=201, response_model=s.VerdictOut, tags=["scans"],
              summary="Record Scan", description="The verdict, as `station scan --json` prints it.")
    async def record_scan(body: s.ScanCreate, request: Request) -> Any:
        text = body.payload if body.payload is not None else body.code
        if text is None:
            raise InvalidInput("Give 'payload' (the QR text or pass code) to record a scan.")
        operator = body.operator or _by(request)
        if (body.list is not None or body.direction is not None) and core.lists is None:
            raise InvalidInput("This station has no check-in lists; leave out list and direction.")

        def work() -> dict[str, Any]:
            lst = core.lists.get(body.list) if core.lists and body.list is not None else None
            door = Door(lst, parse_direction(body.direction))
            return core.scans.submit(text, Source.API, operator, door=door).to_json()
        return await run(work)

    @api.get("/scans", response_model=s.ScanPage, tags=["scans"], summary="List scans, newest first")
    async def list_scans(limit: Limit, cursor: Cursor = None,
                         passId: Annotated[str | None, Query(max_length=64)] = None,
                         since: Since = None) -> Any:
        page = await run(core.store.list_scans, pass_id=passId, limit=limit, cursor=cursor,
                         since=_since(since))
        return {"items": [x.to_api() for x in page.items], "nextCursor": page.next_cursor}

    if core.lists is not None and core.venue is not None:
        add_list_routes(api, core.lists, core.venue, run, _by)

    # --- clients ---------------------------------------------------------------------------
    @api.post("/clients", status_code=201, response_model=s.ClientOut, tags=["clients"],
              summary="Create a client")
    async def create_client(body: s.ClientCreate) -> Any:
        return (await run(core.clients.create, body.name, body.email, body.phone)).to_api()

    @api.get("/clients", response_model=s.ClientPage, tags=["clients"], summary="List clients, newest first")
    async def list_clients(limit: Limit, cursor: Cursor = None) -> Any:
        page = await run(core.clients.list, limit=limit, cursor=cursor)
        return {"items": [c.to_api() for c in page.items], "nextCursor": page.next_cursor}

    # --- webhooks --------------------------------------------------------------------------
    def _hook_out(webhook_id: str) -> dict[str, Any]:
        hook = integrations.webhook(webhook_id)
        counts = integrations.counts(hook.id)
        return {**hook.to_api(), **counts}

    @api.post("/webhooks", status_code=201, response_model=s.WebhookCreated, tags=["webhooks"],
              summary="Subscribe to an event",
              description="The signing secret is in this response only. At most 10 per organisation.")
    async def subscribe(body: s.WebhookCreate) -> Any:
        created = await run(integrations.subscribe, body.event, body.targetUrl)
        return {**created.to_api(), "pending": 0, "succeeded": 0, "failed": 0}

    @api.get("/webhooks", response_model=s.WebhookList, tags=["webhooks"], summary="List subscriptions")
    async def list_webhooks() -> Any:
        def work() -> dict[str, Any]:
            return {"items": [{**st.webhook.to_api(), "pending": st.pending,
                               "succeeded": st.succeeded, "failed": st.failed}
                              for st in integrations.webhook_states()]}
        return await run(work)

    @api.get("/webhooks/{webhook_id}", response_model=s.WebhookOut, tags=["webhooks"],
              summary="A subscription and its state")
    async def get_webhook(webhook_id: Id) -> Any:
        return await run(_hook_out, webhook_id)

    @api.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response,
                tags=["webhooks"], summary="Unsubscribe",
                description="204 also when the subscription is already gone (a replayed "
                            "unsubscribe, or one its target removed with 410).")
    async def delete_webhook(webhook_id: Id) -> Response:
        await run(integrations.delete_webhook, webhook_id)
        return Response(status_code=204)

    @api.post("/webhooks/{webhook_id}/enable", response_model=s.WebhookOut, tags=["webhooks"],
              summary="Re-enable a disabled subscription")
    async def enable_webhook(webhook_id: Id) -> Any:
        def work() -> dict[str, Any]:
            integrations.enable_webhook(webhook_id)
            return _hook_out(webhook_id)
        return await run(work)

    @api.get("/webhooks/{webhook_id}/deliveries", response_model=s.DeliveryList, tags=["webhooks"],
             summary="Recent deliveries with their attempt log")
    async def list_deliveries(webhook_id: Id, limit: Limit) -> Any:
        def work() -> dict[str, Any]:
            items = []
            for d in integrations.deliveries(webhook_id, limit):
                items.append({**d.to_api(), "log": [a.to_api() for a in integrations.attempts(d.id)]})
            return {"items": items}
        return await run(work)

    @api.post("/webhooks/{webhook_id}/deliveries/{delivery_id}/resend", status_code=202,
              response_model=s.DeliveryOut, tags=["webhooks"], summary="Send a delivery again")
    async def resend(webhook_id: Id, delivery_id: Id) -> Any:
        def work() -> dict[str, Any]:
            found = integrations.delivery(delivery_id)
            if found.webhook_id != webhook_id:
                raise InvalidInput("That delivery belongs to another subscription.")
            d = integrations.resend(delivery_id)
            return {**d.to_api(), "log": [a.to_api() for a in integrations.attempts(d.id)]}
        return await run(work)

    # --- polling ---------------------------------------------------------------------------
    @api.get("/triggers", response_model=list[s.TriggerItem], tags=["triggers"],
             summary="Recent events, newest first (polling)",
             description=(
                 "Items have the webhook payload shape; `id` is unique. Order: timestamp, then id, "
                 "both descending, so events with the same timestamp keep one stable order. "
                 "`since` keeps events at or after that time. When more items exist, the "
                 "`X-Next-Cursor` header holds a cursor to pass as `cursor` for the next page."),
             responses={200: {"headers": {"X-Next-Cursor": {
                 "description": "Cursor of the next page, when there is one.",
                 "schema": {"type": "string"}}}}})
    async def triggers(response: Response, *, event: s.EventName | None = None,
                       since: Since = None,
                       limit: Limit, cursor: TriggerCursor = None) -> Any:
        page = await run(integrations.triggers, event=event, since=since, limit=limit, cursor=cursor)
        if page.next_cursor:
            response.headers["X-Next-Cursor"] = page.next_cursor
        return [e.to_payload() for e in page.items]

    # --- the connection ---------------------------------------------------------------------
    @api.get("/me", response_model=s.MeOut, tags=["meta"],
             summary="The key, station and organisation of this connection (for its label)")
    async def me(request: Request) -> Any:
        key: ApiKey = request.state.api_key

        def work() -> dict[str, Any]:
            return {"key": {"id": key.id, "name": key.name, "prefix": key.prefix},
                    "station": {"id": core.store.station_id, "name": station_name(core.store)},
                    "organisation": {"id": organisation_id(core.store), "name": None}}
        return await run(work)

    # --- sync --------------------------------------------------------------------------------
    @api.get("/sync/status", response_model=s.SyncStatusOut, tags=["sync"],
             summary="Sync between stations: hub, pending events, last sync, state digest")
    async def sync_status() -> Any:
        if core.sync_status is not None:
            return await run(core.sync_status)
        return {"enabled": False, "stateDigest": await run(SyncLedger(core.store).state_digest)}

    return api
