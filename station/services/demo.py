"""Sample passes for the demo data directory, so a new user sees every kind of verdict."""

from __future__ import annotations

from datetime import timedelta

from station.domain.models import Pass
from station.domain.times import to_iso
from station.services.clients import ClientService
from station.services.context import Context
from station.services.passes import PassService

DEMO_GUESTS = [
    ("Ada Lovelace", "ada@example.com"),
    ("Grace Hopper", "grace@example.com"),
    ("Alan Turing", "alan@example.com"),
    ("Katherine Johnson", "katherine@example.com"),
    ("Edsger Dijkstra", "edsger@example.com"),
    ("Barbara Liskov", "barbara@example.com"),
    ("Donald Knuth", "donald@example.com"),
    ("Margaret Hamilton", "margaret@example.com"),
]


def seed_demo(ctx: Context, passes: PassService, clients: ClientService) -> list[Pass]:
    """Create the demo passes once; returns the passes (existing ones if already seeded)."""
    if ctx.store.count_passes() > 0:
        return passes.list(limit=100).items
    now = ctx.now()
    if ctx.store.setting("station_name") is None:
        ctx.store.set_setting("station_name", "Main door")
    created: list[Pass] = []
    for index, (name, email) in enumerate(DEMO_GUESTS):
        client = clients.create(name, email)
        if index % 4 == 3:
            new = passes.validate(name, "multi", max_uses=3, client_id=client.id,
                                  fields={"ticket": "Weekend"})
        else:
            new = passes.validate(name, "single", client_id=client.id,
                                  valid_until=to_iso(now + timedelta(days=30)),
                                  fields={"ticket": "Day"})
        created.append(passes.create(new, by="demo"))
    passes.revoke(created[5].code, reason="chargeback", by="demo manager")
    passes.create(passes.validate(
        "Early Bird (not valid yet)", valid_from=to_iso(now + timedelta(days=7))), by="demo")
    passes.create(passes.validate(
        "Last Year's Guest", valid_from=to_iso(now - timedelta(days=400)),
        valid_until=to_iso(now - timedelta(days=365))), by="demo")
    passes.expire_due()
    return passes.list(limit=100).items
