"""/api/v1/lists and /api/v1/occupancy: check-in lists (gates) and who is inside now
(docs/checkin-lists.md). Bad input is refused with one sentence and changes nothing: the
document's shapes first (list_schemas.py), then the domain's whole-list validation."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Annotated, Any

from fastapi import APIRouter, Body, Path, Request, Response

from station.domain.checkin_list import CheckinList
from station.net.api import list_schemas as ls
from station.services.lists import ListService, VenueOccupancy
from station.services.venue import VenueService

Run = Callable[..., Awaitable[Any]]
By = Callable[[Request], str]  # who made a change: the API key's name
ListRef = Annotated[str, Path(min_length=1, max_length=100, description="List id or name.")]


def _out(lst: CheckinList) -> dict[str, Any]:
    return lst.to_json()


def add_list_routes(api: APIRouter, lists: ListService, venue: VenueService, run: Run,
                    by_key: By) -> None:
    @api.get("/lists", response_model=ls.ListPage, tags=["lists"], summary="Check-in lists")
    async def list_lists() -> Any:
        return {"items": [_out(x) for x in await run(lists.all)]}

    @api.post("/lists", status_code=201, response_model=ls.ListOut, tags=["lists"],
              summary="Create a check-in list",
              description="Every key but `name` is optional; names are unique (ignoring case).")
    async def create_list(body: ls.ListCreate, request: Request) -> Any:
        return _out(await run(lists.create, body.changes(), by=by_key(request)))

    @api.get("/lists/{ref}", response_model=ls.ListOut, tags=["lists"],
             summary="A check-in list by id or name")
    async def get_list(ref: ListRef) -> Any:
        return _out(await run(lists.get, ref))

    @api.patch("/lists/{ref}", response_model=ls.ListOut, tags=["lists"],
               summary="Edit a check-in list",
               description="Only the keys sent change (null clears an optional one); the list "
                           "is checked whole, so a change that would leave it invalid changes "
                           "nothing. Every door applies the edit.")
    async def edit_list(ref: ListRef, body: ls.ListChange, request: Request) -> Any:
        return _out(await run(lists.edit, ref, body.changes(), by=by_key(request)))

    @api.delete("/lists/{ref}", status_code=204, tags=["lists"],
                summary="Delete a check-in list",
                description="At every door: a door set to it refuses every entry from then on "
                            "(exits are still recorded), and everyone on it is checked out.")
    async def delete_list(ref: ListRef, request: Request) -> Response:
        await run(lists.delete, ref, by=by_key(request))
        return Response(status_code=204)

    @api.get("/occupancy", response_model=ls.OccupancyOut, tags=["lists"],
             summary="Inside now: the venue and each list",
             description="The fold of entries and exits from every door this station has "
                         "heard from; offline, it is this station's own view.")
    async def occupancy() -> Any:
        return _occupancy_out(await run(lists.occupancy))

    @api.post("/occupancy/checkout", response_model=ls.OccupancyOut, tags=["lists"],
              summary="Everyone out now (one list, or the venue)",
              description="Records a check-out that reaches every door: everyone this station "
                          "counts as inside (on `list`, or anywhere) is out; answers the "
                          "occupancy after it.")
    async def checkout(request: Request,
                       body: Annotated[ls.CheckoutBody | None, Body()] = None) -> Any:
        ref = body.list if body else None
        return _occupancy_out(await run(lists.checkout, ref, by=by_key(request)))

    @api.get("/venue", response_model=ls.VenueOut, tags=["lists"],
             summary="The venue's time zone and daily check-out")
    async def get_venue() -> Any:
        return (await run(venue.get)).to_json()

    @api.patch("/venue", response_model=ls.VenueOut, tags=["lists"],
               summary="Set the venue's time zone or daily check-out",
               description="Only the keys sent change (null clears one); both are checked "
                           "before either is written. A station setting: set every door alike.")
    async def set_venue(body: ls.VenueChange) -> Any:
        return (await run(venue.change, body.changes())).to_json()


def _occupancy_out(now: VenueOccupancy) -> dict[str, Any]:
    return {"inside": now.inside,
            "lists": [{"id": x.list_.id, "name": x.list_.name, "inside": x.inside,
                       "capacity": x.list_.capacity} for x in now.lists]}
