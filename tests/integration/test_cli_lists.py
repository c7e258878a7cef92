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
                            '[{"rule": "entriesPerDay", "max": 2}]', "--json").stdout)
    assert edited["capacity"] is None and edited["fields"] == {"tier": "vip"}
    assert edited["rules"] == [{"rule": "entriesPerDay", "max": 2}] and edited["reentry"]

    # A note for the door comes with the pass's accepted entry.
    kim = json.loads(cli("passes", "create", "--name", "Kim", "--attention", "Check ID",
                         "--json").stdout)
    assert kim["attention"] == "Check ID"
    assert json.loads(cli("scan", kim["code"], "--json").stdout)["attention"] == "Check ID"


def test_bad_options_get_one_sentence_and_change_nothing(cli: StationCLI) -> None:
    cli("lists", "create", "--name", "VIP", "--capacity", "5")
    before = cli("lists", "list", "--json").stdout
    for args in (["lists", "edit", "VIP", "--capacity", "0"],
                 ["lists", "edit", "VIP", "--capacity", "lots"],
                 ["lists", "edit", "VIP", "--rules", "[{"],
                 ["lists", "edit", "VIP", "--rules", '[{"rule": "eval"}]'],
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
