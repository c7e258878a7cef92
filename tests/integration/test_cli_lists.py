"""`station lists create|list|edit` and `station scan --list --direction`, run as real
`station` subprocesses against one data directory (issue 14)."""

from __future__ import annotations

import json

from tests.conftest import StationCLI


def _pass(cli: StationCLI, name: str, tier: str) -> str:
    made = cli("passes", "create", "--name", name, "--type", "multi", "--field", f"tier={tier}",
               "--json")
    code: str = json.loads(made.stdout)["code"]
    return code


def test_lists_created_edited_and_scanned_at_from_the_command_line(cli: StationCLI) -> None:
    made = json.loads(cli("lists", "create", "--name", "VIP", "--field", "tier=vip",
                          "--reentry", "--capacity", "2", "--json").stdout)
    assert (made["name"], made["fields"], made["reentry"], made["capacity"]) == (
        "VIP", {"tier": "vip"}, True, 2)
    assert cli("lists", "create", "--name", "Main").stdout.startswith("Main (lst")
    vera, gene = _pass(cli, "Vera", "vip"), _pass(cli, "Gene", "general")

    assert cli("scan", gene, "--list", "vip").stdout.startswith("REFUSED")
    assert cli("scan", vera, "--list", "VIP").stdout.startswith("ACCEPTED")
    again = json.loads(cli("scan", vera, "--list", "VIP", "--json").stdout)
    assert again["reason"] == "already_inside"
    listed = cli("lists", "list").stdout
    assert "VIP" in listed and "Main" in listed and "inside now: 1" in listed
    assert cli("scan", vera, "--list", made["id"], "--direction", "out").stdout.startswith(
        "ACCEPTED")
    now = json.loads(cli("lists", "list", "--json").stdout)
    assert now["inside"] == 0 and [x["inside"] for x in now["lists"]] == [0, 0]

    # Only what is given changes: the fields and re-entry stay.
    edited = json.loads(cli("lists", "edit", "VIP", "--capacity", "none", "--rules",
                            '[{"rule": "entriesPerDay", "max": 2}]', "--checkout-at", "04:00",
                            "--json").stdout)
    assert edited["capacity"] is None and edited["fields"] == {"tier": "vip"}
    assert edited["checkoutAt"] == "04:00"
    assert edited["rules"] == [{"rule": "entriesPerDay", "max": 2}] and edited["reentry"]

    # A note for the door comes with the pass's accepted entry.
    kim = json.loads(cli("passes", "create", "--name", "Kim", "--attention", "Check ID",
                         "--json").stdout)
    assert kim["attention"] == "Check ID"
    assert json.loads(cli("scan", kim["code"], "--json").stdout)["attention"] == "Check ID"
    assert cli("lists", "checkout").stdout.strip() == "checked out everyone; inside now: 0"
    assert cli("scan", vera, "--list", "VIP").stdout.startswith("ACCEPTED")
    assert cli("lists", "delete", "vip").stdout.strip() == (
        "deleted VIP: its doors admit nobody now; inside now: 0")
    assert [x["name"] for x in json.loads(cli("lists", "list", "--json").stdout)["lists"]] == [
        "Main"]
    gone = cli("scan", vera, "--list", "VIP", check=False)
    assert gone.returncode == 2 and "station: error: " in gone.stderr
    cleared = json.loads(cli("passes", "attention", kim["code"], "--clear", "--json").stdout)
    assert "attention" not in cleared
    assert cli("passes", "attention", kim["code"], check=False).returncode == 2  # say what


def test_bad_options_get_one_sentence_and_change_nothing(cli: StationCLI) -> None:
    cli("lists", "create", "--name", "VIP", "--capacity", "5")
    before = cli("lists", "list", "--json").stdout
    for args in (["lists", "edit", "VIP", "--capacity", "0"],
                 ["lists", "edit", "VIP", "--capacity", "lots"],
                 ["lists", "edit", "VIP", "--rules", "[{"],
                 ["lists", "edit", "VIP", "--rules", '[{"rule": "eval"}]'],
                 ["lists", "edit", "VIP", "--checkout-at", "4am"],
                 ["lists", "edit", "VIP"],
                 ["lists", "edit", "Backstage", "--capacity", "3"],
                 ["lists", "create", "--name", "vip"],
                 ["scan", "ABCDEFGHJKLM", "--list", "Backstage"]):
        result = cli(*args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("station: error: "), (args, lines)
        assert "Traceback" not in result.stderr
    assert cli("lists", "list", "--json").stdout == before
    assert cli("scans", "export", str(cli.data_dir / "scans.csv")).returncode == 0
    assert (cli.data_dir / "scans.csv").read_text().count("\n") == 1  # the header: no scan


def test_serve_scans_piped_lines_at_its_list_and_direction(cli: StationCLI) -> None:
    """`station serve --list Hall`: the scanner's lines are decided at that list's door."""
    import signal
    import subprocess
    import threading

    from tests.integration.test_cli import cli_command
    from tests.waiting import PATIENCE_S, wait_until

    cli("lists", "create", "--name", "Hall", "--reentry")
    code = _pass(cli, "Ada", "general")
    unknown = cli("serve", "--no-api", "--list", "Backstage", check=False, input="")
    assert unknown.returncode == 2 and unknown.stderr.count("\n") == 1
    assert "Backstage" in unknown.stderr

    proc = subprocess.Popen([*cli_command(), "serve", "--no-api", "--list", "hall"],
                            env=cli.env, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    out: list[str] = []
    pump = threading.Thread(target=lambda: out.extend(proc.stdout or []), daemon=True)
    pump.start()
    try:
        assert proc.stdin is not None
        proc.stdin.write(f"{code}\n{code}\n")
        proc.stdin.close()
        verdicts = wait_until(lambda: [x for x in out if x.startswith(("ACCEPTED", "REFUSED"))]
                              if len(out) >= 2 and sum(x.startswith(("ACCEPTED", "REFUSED"))
                                                       for x in out) == 2 else None,
                              what="two verdict lines")
        assert any(line.startswith("  door     Hall, entry") for line in out)
        assert verdicts[0].startswith("ACCEPTED") and verdicts[1].startswith("REFUSED")
    finally:
        proc.send_signal(signal.SIGTERM)
        proc.wait(timeout=PATIENCE_S)
    assert json.loads(cli("lists", "list", "--json").stdout)["inside"] == 1
