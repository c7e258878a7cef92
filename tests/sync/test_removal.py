"""Issue 15, part 4: `station hub stations|remove|rotate-join` beside a running `station hub`
(real subprocesses, real nats-server): a removed station is powerless, a rotated join URL no
longer enrols while enrolled doors keep syncing."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import nats.errors
import pytest

from station.cli.hub_admin import PASSPHRASE_ENV
from station.domain import trust
from station.domain.errors import InvalidInput
from station.domain.models import Reason, Verdict
from station.net.sync.auth import is_auth_refusal
from station.net.sync.enrol import join_refused
from station.net.sync.hub_tls import connect_hub
from station.net.sync.url import SyncTarget
from station.services.key_trust import TRUST_SETTING, KeyTrust
from station.services.org_authority import read_export
from station.services.passes import PassService
from tests.conftest import REPO, StationCLI
from tests.sync.conftest import StationFactory, converged, free_port, wait_for
from tests.sync.test_enrolment import enrolled, own_target
from tests.waiting import PATIENCE_S


class RunningHub:
    def __init__(self, data_dir: Path) -> None:
        self.cli = StationCLI(data_dir)
        self.port = free_port()
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "station", "hub", "--data-dir", str(data_dir), "--port",
             str(self.port)], env=self.cli.env, cwd=REPO, stdout=subprocess.PIPE,
            stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, text=True)
        assert self.proc.stdout is not None
        first = self.proc.stdout.readline().strip()  # printed once the desk answers
        assert first.startswith("sync url: tls://enrol:"), first
        self.join_url = first.removeprefix("sync url: ")

    def admin(self, *args: str) -> subprocess.CompletedProcess[str]:
        return self.cli("hub", "--data-dir", str(self.cli.data_dir), *args)

    def stop(self) -> None:
        self.proc.send_signal(signal.SIGTERM)
        self.proc.communicate(timeout=PATIENCE_S)


@pytest.fixture
def running_hub(tmp_path: Path) -> Iterator[RunningHub]:
    hub = RunningHub(tmp_path / "hub-host")
    yield hub
    hub.stop()


def _connects(target: SyncTarget) -> bool | str:
    """True when the hub accepts these credentials, "refused" when it refuses them."""
    async def attempt() -> bool | str:
        async def quiet(exc: Exception) -> None:
            pass
        try:
            nc = await connect_hub(target, allow_reconnect=False, connect_timeout=5,
                                   error_cb=quiet)
        except nats.errors.Error as exc:
            return "refused" if is_auth_refusal(exc) else str(exc)
        await nc.close()
        return True
    return asyncio.run(attempt())


@pytest.mark.allow_log("station.services.key_trust", "was removed from the organisation")
@pytest.mark.allow_log("station.net.sync.client", "refused")
def test_a_removed_station_is_refused_by_the_hub_and_its_new_passes_at_other_doors(
        running_hub: RunningHub, make_station: StationFactory) -> None:
    a = make_station("Door A", running_hub.join_url)
    b = make_station("Door B", running_hub.join_url)
    wait_for(lambda: enrolled(a) and enrolled(b), what="both doors to enrol")
    wait_for(converged(a, b), what="the enrolled doors in sync")
    before = a.core.passes.create(PassService.validate("Ada", "multi"))
    wait_for(lambda: b.core.store.pass_by_id(before.id) is not None, what="A's pass at B")
    listed = running_hub.admin("stations").stdout
    assert "Door A" in listed and a.core.ctx.station_id in listed and "Door B" in listed
    assert "last seen 20" in listed  # a time, from the stations' announcements

    credential = own_target(a, running_hub.port)
    assert _connects(credential) is True
    out = running_hub.admin("remove", "Door A").stdout
    assert "removed Door A" in out
    # Its credential stops working at once: the hub reloaded without its user.
    assert _connects(credential) == "refused"
    wait_for(lambda: a.sync is not None and not a.sync.status().connected,
             what="A to be disconnected")
    # B learns the removal: a pass A signs now is refused there, naming A...
    wait_for(lambda: any(r.station_id == a.core.ctx.station_id
                         for r in KeyTrust(b.core.ctx).removed()), what="B to learn the removal")
    after = a.core.passes.create(PassService.validate("Mallory", "multi"))
    refused = b.core.scans.submit(after.public_url)
    assert refused.verdict is Verdict.REJECTED and refused.reason == Reason.BAD_SIGNATURE
    assert "Door A" in refused.message
    # ... while the pass it made before the removal (held at B) still scans.
    assert b.core.scans.submit(before.public_url).verdict is Verdict.ACCEPTED
    assert "Door A" not in running_hub.admin("stations").stdout
    # A's later events never reach B: it cannot publish any more.
    assert b.core.store.pass_by_id(after.id) is None


@pytest.mark.allow_log("station.net.sync.client", "refused this join URL")
def test_after_rotate_join_the_old_url_cannot_enrol_and_enrolled_doors_still_sync(
        running_hub: RunningHub, make_station: StationFactory) -> None:
    a = make_station("Door A", running_hub.join_url)
    b = make_station("Door B", running_hub.join_url)
    wait_for(lambda: enrolled(a) and enrolled(b), what="both doors to enrol")
    wait_for(converged(a, b), what="the enrolled doors in sync")
    rotated = running_hub.admin("rotate-join").stdout.strip()
    assert rotated.startswith("sync url: tls://enrol:")
    new_url = rotated.removeprefix("sync url: ")
    assert new_url != running_hub.join_url
    late = make_station("Door Late", running_hub.join_url)
    old = SyncTarget.parse(running_hub.join_url)
    wait_for(lambda: late.sync is not None and late.sync.status().error == join_refused(old),
             what="the old join URL to be refused")
    assert not enrolled(late)
    # Enrolled doors keep syncing, and the new URL enrols.
    p = a.core.passes.create(PassService.validate("Ada", "multi"))
    wait_for(lambda: b.core.store.pass_by_id(p.id) is not None, what="A's pass to reach B")
    c = make_station("Door C", new_url)
    wait_for(lambda: enrolled(c), what="C to enrol with the new join URL")
    wait_for(converged(a, b, c), what="three doors in sync")


def test_export_key_writes_the_organisation_key_encrypted_with_a_passphrase(
        running_hub: RunningHub, make_station: StationFactory, tmp_path: Path) -> None:
    a = make_station("Door A", running_hub.join_url)
    wait_for(lambda: enrolled(a), what="A to enrol")
    out = tmp_path / "org-key.pem"
    short = running_hub.cli("hub", "--data-dir", str(running_hub.cli.data_dir), "export-key",
                            "--out", str(out), check=False,
                            env_extra={PASSPHRASE_ENV: "short"})
    assert short.returncode == 2 and "passphrase" in short.stderr and not out.exists()
    done = running_hub.cli("hub", "--data-dir", str(running_hub.cli.data_dir), "export-key",
                           "--out", str(out), env_extra={PASSPHRASE_ENV: "correct horse battery"})
    assert str(out) in done.stdout and oct(out.stat().st_mode & 0o777) == "0o600"
    pem = out.read_bytes()
    assert b"ENCRYPTED" in pem
    with pytest.raises(InvalidInput):
        read_export(pem, "wrong passphrase!")
    org, key = read_export(pem, "correct horse battery")
    # The key the doors were certified with, and their organisation.
    assert trust.key_b64(key.public_key()) == a.core.store.setting(TRUST_SETTING)["orgKey"]
    assert org == a.core.store.setting(TRUST_SETTING)["org"]


def test_an_exported_key_restored_on_a_new_hub_keeps_the_doors_certificates_valid(
        running_hub: RunningHub, make_station: StationFactory, tmp_path: Path) -> None:
    a = make_station("Door A", running_hub.join_url)
    wait_for(lambda: enrolled(a), what="A to enrol")
    out, new_dir = tmp_path / "org-key.pem", tmp_path / "new-hub"
    passphrase = {PASSPHRASE_ENV: "correct horse battery"}
    running_hub.cli("hub", "--data-dir", str(running_hub.cli.data_dir), "export-key", "--out",
                    str(out), env_extra=passphrase)
    running_hub.stop()  # the hub machine is lost

    def restore(path: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
        return running_hub.cli("hub", "--data-dir", str(new_dir), "import-key", str(path),
                               check=False, env_extra=env)

    # Bad input: one sentence each, and nothing written (not even the data directory).
    damaged = tmp_path / "damaged.pem"
    text = out.read_text().splitlines()
    text[3] = text[3][:10] + ("A" if text[3][10] != "A" else "B") + text[3][11:]
    damaged.write_text("\n".join(text) + "\n")
    stranger = tmp_path / "notes.txt"
    stranger.write_text("not a key\n")
    for path, env, said in ((out, {PASSPHRASE_ENV: "wrong passphrase!"}, "passphrase"),
                            (damaged, passphrase, "damaged"),
                            (stranger, passphrase, "not an organisation key"),
                            (tmp_path / "missing.pem", passphrase, "Cannot read")):
        refused = restore(path, env)
        assert refused.returncode == 2 and said in refused.stderr, refused.stderr
        assert len(refused.stderr.strip().splitlines()) == 1 and "Traceback" not in refused.stderr
        assert not new_dir.exists()
    done = restore(out, passphrase)
    assert done.returncode == 0 and "restored" in done.stdout, done.stderr
    assert restore(out, passphrase).returncode == 0  # the same key again changes nothing

    # The restored hub serves the same organisation with the same key: a door enrolling there
    # gets the key A's certificate verifies against.
    new_hub = RunningHub(new_dir)
    try:
        c = make_station("Door C", new_hub.join_url)
        wait_for(lambda: enrolled(c), what="C to enrol at the restored hub")
        org_key = KeyTrust(c.core.ctx).org_key()
        assert org_key is not None
        cert = trust.read_certificate(KeyTrust(a.core.ctx).certificate(), org_key)
        assert cert.station_id == a.core.ctx.station_id
        assert c.core.store.setting(TRUST_SETTING)["org"] == a.core.store.setting(
            TRUST_SETTING)["org"]
    finally:
        new_hub.stop()
