"""A hub with its enrolment desk, as `station hub` runs it (issue 15): real nats-server."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from station.net.sync.enrol_desk import EnrolmentDesk
from station.net.sync.hub import HubServer
from station.net.sync.setup import hub_server
from station.services.org_authority import OrgAuthority
from station.store.secrets import SecretStore
from tests.sync.conftest import free_port


@dataclass
class EnrolHub:
    server: HubServer
    desk: EnrolmentDesk
    secrets: SecretStore
    authority: OrgAuthority

    @property
    def join_url(self) -> str:
        return self.server.join_target.full_url()


@pytest.fixture
def enrol_hub(tmp_path: Path) -> Iterator[EnrolHub]:
    data = tmp_path / "hub-host"
    secrets = SecretStore(data, "org_venue")
    server = hub_server(data, secrets, port=free_port(), lan=False)
    server.start()
    authority = OrgAuthority(secrets)
    desk = EnrolmentDesk(server, authority, "org_venue")
    desk.start()
    yield EnrolHub(server, desk, secrets, authority)
    desk.stop()
    server.stop()
