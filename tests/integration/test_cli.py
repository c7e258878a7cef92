"""Every CLI command end to end: a real `station` process on a temporary data directory."""

from __future__ import annotations

import csv
import json
import subprocess
from pathlib import Path

import pytest

from tests.conftest import StationCLI
from tests.waiting import PATIENCE_S


def create(cli: StationCLI, *args: str) -> dict[str, object]:
    return json.loads(cli("passes", "create", *args, "--json").stdout)


def test_version(cli: StationCLI) -> None:
    from station import __version__

    assert cli("--version").stdout.strip() == f"station {__version__}"


def test_pass_lifecycle(cli: StationCLI) -> None:
    client = json.loads(cli("clients", "create", "--name", "Ada", "--email", "ada@example.com",
                            "--phone", "+44 20 7946 0000", "--json").stdout)
    p = create(cli, "--name", "VIP Guest", "--type", "multi", "--max-uses", "2",
               "--valid-until", "2099-01-01T00:00:00Z", "--client", str(client["id"]),
               "--field", "table=4", "--field", "zone=A")
    assert p["type"] == "multi" and p["maxUses"] == 2 and p["fields"] == {"table": "4", "zone": "A"}
    assert p["clientId"] == client["id"] and p["validUntil"] == "2099-01-01T00:00:00.000Z"
    code = str(p["code"])

    listed = json.loads(cli("passes", "list", "--json").stdout)
    assert [x["code"] for x in listed] == [code]
    assert json.loads(cli("passes", "list", "--search", "ada@", "--json").stdout)[0]["code"] == code
    assert json.loads(cli("passes", "list", "--status", "revoked", "--json").stdout) == []
    assert code in cli("passes", "list").stdout

    first = json.loads(cli("scan", str(p["publicUrl"]), "--json").stdout)
    assert first["verdict"] == "accepted" and first["reason"] is None
    assert first["pass"]["code"] == code and first["pass"]["uses"] == 1
    assert set(first["pass"]) >= {"id", "code", "name", "type", "status", "publicUrl"}

    revoked = json.loads(cli("passes", "revoke", code, "--reason", "chargeback", "--json").stdout)
    assert revoked["status"] == "revoked"
    refused = cli("scan", code)
    assert refused.returncode == 0 and refused.stdout.startswith("REFUSED: Revoked by cli: chargeback")
    assert json.loads(cli("passes", "activate", code, "--json").stdout)["status"] == "active"

    last = json.loads(cli("scan", code, "--json").stdout)
    assert last["verdict"] == "accepted" and last["pass"]["status"] == "used"
    assert "last use" in last["warning"]

    shown = json.loads(cli("passes", "show", code, "--json").stdout)
    assert [e["event"] for e in shown["history"]] == [
        "pass.created", "pass.scanned", "pass.status_changed", "pass.scanned",
        "pass.status_changed", "pass.scanned", "pass.status_changed",
    ]
    human = cli("passes", "show", str(p["id"])).stdout
    assert "history" in human and "active → revoked by cli: chargeback" in human

    clients = json.loads(cli("clients", "list", "--json").stdout)
    assert [c["email"] for c in clients] == ["ada@example.com"]


def test_import_reports_bad_rows_and_imports_good_ones(cli: StationCLI, tmp_path: Path) -> None:
    source = tmp_path / "guests.csv"
    source.write_text(
        "Name,Email,Type,Max Uses,Valid From,Valid Until,Table\n"
        "Ada,ada@example.com,single,,,,4\n"
        ",nobody@example.com,single,,,,\n"                 # line 3: no name
        "Bob,bob@example.com,multi,3,,2099-01-01,7\n"
        "Eve,not-an-email,single,,,,\n"                    # line 5: bad email
        "Mal,mal@example.com,vip,,,,\n"                     # line 6: bad type
        "Zoe,zoe@example.com,single,,2026-02-01,2026-01-01,\n"  # line 7: window backwards
        "\n"
        "Cy,,multi,,,,\n",
        encoding="utf-8",
    )
    result = cli("passes", "import", str(source), check=False)
    assert result.returncode == 1
    assert "imported 3 passes, 4 rows refused" in result.stdout
    errors = [line for line in result.stderr.splitlines() if line.startswith("line ")]
    assert [e.split(":")[0] for e in errors] == ["line 3", "line 5", "line 6", "line 7"]
    assert "Name is required" in errors[0] and "not an email" in errors[1]
    passes = json.loads(cli("passes", "list", "--json").stdout)
    assert sorted(p["name"] for p in passes) == ["Ada", "Bob", "Cy"]
    bob = next(p for p in passes if p["name"] == "Bob")
    assert bob["maxUses"] == 3 and bob["fields"] == {"Table": "7"} and bob["clientId"]


@pytest.mark.parametrize(("content", "message"), [
    (b"", "is empty"),
    (b"email,type\nx@y.z,single\n", "no 'name' column"),
    (b"name\n\xff\xfe\n", "not UTF-8"),
])
def test_import_refuses_unusable_files(cli: StationCLI, tmp_path: Path, content: bytes, message: str) -> None:
    source = tmp_path / "bad.csv"
    source.write_bytes(content)
    result = cli("passes", "import", str(source), check=False)
    assert result.returncode == 2 and message in result.stderr
    assert json.loads(cli("passes", "list", "--json").stdout) == []


def test_scans_export(cli: StationCLI, tmp_path: Path) -> None:
    p = create(cli, "--name", "=cmd|' /C calc'!A0")
    cli("scan", str(p["code"]))
    cli("scan", str(p["code"]))
    cli("scan", "NoSuchCode12")
    target = tmp_path / "scans.csv"
    cli("scans", "export", str(target))
    rows = list(csv.DictReader(target.open(encoding="utf-8")))
    assert [r["verdict"] for r in rows] == ["accepted", "rejected", "rejected"]
    assert [r["reason"] for r in rows] == ["", "used", "unknown"]
    assert rows[0]["passCode"] == p["code"]
    assert rows[0]["passName"].startswith("'=")  # neutralised for spreadsheets


BAD_SCANS = {
    "empty": "",
    "oversize": "A" * 100_000,
    "nul": "abc\x01def",
}


@pytest.mark.parametrize("name", BAD_SCANS)
def test_scan_refuses_impossible_payloads_with_one_line(cli: StationCLI, name: str) -> None:
    p = create(cli, "--name", "Bystander")
    if name == "oversize":
        # Too long for argv on some systems; the same check applies to the API and stdin paths.
        result = cli("scan", "A" * 100_000, check=False)
    else:
        result = cli("scan", BAD_SCANS[name], check=False)
    assert result.returncode == 2
    lines = [line for line in result.stderr.splitlines() if not line.startswith("WARNING")]
    assert len(lines) == 1 and lines[0].startswith("station: error: ")
    shown = json.loads(cli("passes", "show", str(p["code"]), "--json").stdout)
    assert shown["uses"] == 0 and len(shown["history"]) == 1


def test_scan_non_utf8_argument(cli: StationCLI) -> None:
    result = subprocess.run(
        [*cli_command(), "scan", b"\xff\xfe\xfd"], env=cli.env, capture_output=True, timeout=60,
    )
    assert result.returncode == 2 and b"station: error:" in result.stderr


def cli_command() -> list[str]:
    import sys

    return [sys.executable, "-m", "station"]


@pytest.mark.parametrize(("payload", "reason"), [
    ("'; DROP TABLE passes; --", "unknown"),
    ("🎟️ free entry 🎉", "unknown"),
    ("https://passes.station.example/p/AbCd12", "unknown"),
    ("https://other.example/p/AbCd1234EfGh?token=a.b", "foreign"),
    ("AbCd1234EfGh", "unknown"),
])
def test_scan_refuses_plausible_bad_payloads(cli: StationCLI, payload: str, reason: str) -> None:
    out = json.loads(cli("scan", payload, "--json").stdout)
    assert out["verdict"] == "rejected" and out["reason"] == reason and out["pass"] is None


def test_forged_token_is_refused(cli: StationCLI) -> None:
    p = create(cli, "--name", "Guest")
    url = str(p["publicUrl"])
    forged = url[:-4] + ("AAAA" if not url.endswith("AAAA") else "BBBB")
    out = json.loads(cli("scan", forged, "--json").stdout)
    assert out["reason"] == "bad_signature"
    assert json.loads(cli("scan", url, "--json").stdout)["verdict"] == "accepted"


@pytest.mark.parametrize(("args", "message"), [
    (["passes", "create", "--name", ""], "Name is required"),
    (["passes", "create", "--name", "A", "--max-uses", "3"], "multi-use passes only"),
    (["passes", "create", "--name", "A", "--field", "novalue"], "KEY=VALUE"),
    (["passes", "create", "--name", "A", "--valid-until", "soon"], "not a time"),
    (["passes", "create", "--name", "A", "--client", "cli_nope"], "No client"),
    (["passes", "revoke", "NoSuchCode12"], "No pass"),
    (["passes", "activate", "NoSuchCode12"], "No pass"),
    (["clients", "create", "--name", "A", "--email", "nope"], "not an email"),
])
def test_usage_errors_are_one_line_and_change_nothing(cli: StationCLI, args: list[str], message: str) -> None:
    result = cli(*args, check=False)
    assert result.returncode == 2
    assert message in result.stderr
    assert json.loads(cli("passes", "list", "--json").stdout) == []


def test_serve_runs_and_stops_on_sigterm(cli: StationCLI) -> None:
    import signal

    proc = subprocess.Popen([*cli_command(), "serve", "--demo"], env=cli.env, stdin=subprocess.DEVNULL,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        first = proc.stdout.readline()
        assert first.startswith("Station 'Main door'")
        while "Ctrl-C stops" not in first:  # the banner's last line: the station is running
            first = proc.stdout.readline()
            assert first, "station serve ended before it was running"
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=PATIENCE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0 and "station stopped." in err
    listed = json.loads(cli("passes", "list", "--json").stdout)
    assert len(listed) == 10 and {p["status"] for p in listed} == {"active", "revoked", "expired"}


def test_bare_station_with_options_starts_the_station(cli: StationCLI) -> None:
    """`station --demo` (the README's start command) means `station gui --demo`; with no display
    it says so and runs headless, scanning the demo camera."""
    import os

    env = {k: v for k, v in cli.env.items() if k not in ("DISPLAY", "WAYLAND_DISPLAY", "QT_QPA_PLATFORM")}
    proc = subprocess.Popen([*cli_command(), "--demo", "--no-api"], env=env, cwd=os.getcwd(),
                            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    try:
        assert proc.stdout is not None
        lines = []
        while not any(line.startswith("[camera] ") for line in lines):
            line = proc.stdout.readline()
            assert line, "the station ended before its first verdict"
            lines.append(line)
    finally:
        proc.terminate()
        _, err = proc.communicate(timeout=PATIENCE_S)
    assert lines[0].startswith("Station 'Main door'")
    assert "running headless" in err or "no display" in err.lower()


def test_serve_scans_piped_lines_and_keeps_serving_after_the_input_ends(
        cli: StationCLI, tmp_path: Path) -> None:
    """`printf 'CODE\\n' | station serve`: each line is a scan, the banner says so, and the end of
    the input does not stop the API (only SIGTERM does)."""
    import signal
    import threading

    from tests.api.test_kill import free_port, healthy
    from tests.waiting import wait_until

    codes = [str(create(cli, "--name", name)["code"]) for name in ("Ada", "Bob")]
    port = free_port()
    proc = subprocess.Popen([*cli_command(), "-v", "serve", "--port", str(port)], env=cli.env,
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True)
    out: list[str] = []
    err: list[str] = []
    pumps = [threading.Thread(target=lambda s=s, into=into: into.extend(s), daemon=True)
             for s, into in ((proc.stdout, out), (proc.stderr, err))]
    for pump in pumps:
        pump.start()
    try:
        assert proc.stdin is not None
        proc.stdin.write("".join(f"{code}\n" for code in codes) + "\n" + codes[0] + "\n")
        proc.stdin.close()  # end of input: the station must keep running
        wait_until(lambda: sum(line.startswith(("ACCEPTED", "REFUSED")) for line in out) == 3
                   or proc.poll() is not None, what="three verdict lines")
        assert any("piped input" in line or "each line of standard input" in line for line in out)
        assert [line.split(":")[0] for line in out if line.startswith(("ACCEPTED", "REFUSED"))] \
            == ["ACCEPTED", "ACCEPTED", "REFUSED"]
        wait_until(lambda: any("piped input ended" in line for line in err) or proc.poll() is not None,
                   what="the end of the piped input")
        assert proc.poll() is None, "".join(err)
        assert healthy(f"http://127.0.0.1:{port}")  # the API still serves after the input ended
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=PATIENCE_S)
        for pump in pumps:
            pump.join(PATIENCE_S)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0 and any("station stopped." in line for line in err)
    listed = {p["code"]: p for p in json.loads(cli("passes", "list", "--json").stdout)}
    assert {listed[code]["status"] for code in codes} == {"used"}
    cli("scans", "export", str(tmp_path / "scans.csv"))
    with open(tmp_path / "scans.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 3 and {row["source"] for row in rows} == {"hid"}
