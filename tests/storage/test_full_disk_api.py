"""A full disk through the API of a real `station serve`: a JSON 507 naming the cause, on the
same keep-alive connection, and the next request after space returns just works."""

from __future__ import annotations

import httpx

from tests.api.test_api_server import local_port
from tests.conftest import StationCLI
from tests.small_disk import SmallDisk
from tests.storage.door import Door
from tests.storage.test_full_disk_door import REFUSAL, new_pass


def test_api_answers_507_storage_full_and_keeps_the_connection(cli: StationCLI,
                                                               small_disk: SmallDisk) -> None:
    key = cli("keys", "create", "door-test").stdout.strip()
    first, second = new_pass(cli, "Grace Hopper"), new_pass(cli, "Alan Turing")
    door = Door(cli, "--port", "0")
    try:
        address = door.wait_for("  api").split()[-1]
        assert address.startswith("http://127.0.0.1:"), address
        with httpx.Client(base_url=address, headers={"authorization": f"Bearer {key}"},
                          timeout=60) as client:
            ok = client.post("/api/v1/scans", json={"code": first})
            assert ok.status_code == 201 and ok.json()["verdict"] == "accepted"
            small_disk.fill()
            full = client.post("/api/v1/scans", json={"code": second})
            assert full.status_code == 507, full.text
            assert full.json()["error"] == "storage_full"
            assert full.json()["message"].startswith(REFUSAL)
            assert full.headers.get("connection", "").lower() != "close"
            created = client.post("/api/v1/passes", json={"name": "Someone"})
            assert created.status_code == 507 and created.json()["error"] == "storage_full"
            assert created.json()["message"].startswith(
                "Could not save the change: the disk is full — nothing was changed")
            small_disk.free()
            again = client.post("/api/v1/scans", json={"code": second})
            assert again.status_code == 201 and again.json()["verdict"] == "accepted"
            # One connection throughout: no error answer closed or reset it.
            assert {local_port(r) for r in (ok, full, created, again)} == {local_port(ok)}
    finally:
        door.stop()
    assert door.proc.returncode == 0, door.stderr
