"""Issue 15: a door that hosts the hub hands out the join URL, is certified by the organisation
key it holds, and trusts only certified keys like every enrolled door. Real nats-server."""

from __future__ import annotations

from pathlib import Path

from station.app import StationOptions, build_station
from station.domain.models import Verdict
from station.services.passes import PassService
from tests.sync.conftest import StationFactory, converged, free_port, wait_for
from tests.sync.test_enrolment import enrolled


def test_a_door_hosting_the_hub_and_a_door_that_enrolled_admit_each_others_passes(
        tmp_path: Path, make_station: StationFactory) -> None:
    host = build_station(StationOptions(data_dir=tmp_path / "host", host_hub=True,
                                        hub_port=free_port(), api_enabled=False,
                                        sweep_interval_s=3600))
    host.core.store.set_setting("station_name", "Door A")
    host.start()
    try:
        assert host.sync is not None
        join = host.sync.join_url()
        assert join is not None and join.startswith("tls://enrol:")
        assert enrolled(host) and host.sync.status().trust_note is None
        door = make_station("Door B", join)
        wait_for(lambda: enrolled(door), what="B to enrol at A's hub")
        wait_for(converged(host, door), what="A and B in sync")
        from_a = host.core.passes.create(PassService.validate("Ada", "multi"))
        from_b = door.core.passes.create(PassService.validate("Bea", "multi"))
        wait_for(lambda: door.core.store.pass_by_id(from_a.id) is not None
                 and host.core.store.pass_by_id(from_b.id) is not None,
                 what="each pass at the other door")
        assert door.core.scans.submit(from_a.public_url).verdict is Verdict.ACCEPTED
        assert host.core.scans.submit(from_b.public_url).verdict is Verdict.ACCEPTED
    finally:
        host.stop()
