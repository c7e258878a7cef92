"""`station venue show|set`: the venue's time zone and daily check-out, run as real `station`
subprocesses against one data directory (issue 14: the settings had no way to be set)."""

from __future__ import annotations

import json
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from tests.conftest import StationCLI


def test_the_venue_s_zone_and_check_out_are_set_and_the_rules_read_the_zone(
        cli: StationCLI) -> None:
    assert json.loads(cli("venue", "show", "--json").stdout) == {
        "timezone": None, "checkoutAt": None}
    # A window open for the half hour either side of now in UTC+14, two hours away in UTC-12.
    kiritimati = datetime.now(ZoneInfo("Pacific/Kiritimati"))
    window = {"rule": "window", "from": (kiritimati - timedelta(minutes=30)).strftime("%H:%M"),
              "until": (kiritimati + timedelta(minutes=30)).strftime("%H:%M")}
    cli("lists", "create", "--name", "Late", "--rules", json.dumps([window]))
    codes = [json.loads(cli("passes", "create", "--name", n, "--json").stdout)["code"]
             for n in ("Ada", "Bo")]

    set_ = json.loads(cli("venue", "set", "--timezone", "Pacific/Kiritimati", "--checkout-at",
                          "04:00", "--json").stdout)
    assert set_ == {"timezone": "Pacific/Kiritimati", "checkoutAt": "04:00"}
    assert json.loads(cli("scan", codes[0], "--list", "Late", "--json").stdout)["verdict"] == \
        "accepted"
    # Only what is given changes.
    assert json.loads(cli("venue", "set", "--timezone", "Etc/GMT+12", "--json").stdout) == {
        "timezone": "Etc/GMT+12", "checkoutAt": "04:00"}
    refused = json.loads(cli("scan", codes[1], "--list", "Late", "--json").stdout)
    assert refused["reason"] == "entry_rule", refused
    shown = cli("venue", "set", "--checkout-at", "none", "--timezone", "none").stdout
    assert shown == "time zone: this machine’s\neveryone out every day at: never\n"


def test_a_bad_zone_or_time_is_one_sentence_and_changes_nothing(cli: StationCLI) -> None:
    cli("venue", "set", "--timezone", "Europe/Berlin", "--checkout-at", "05:30")
    before = cli("venue", "show", "--json").stdout
    for args in (["--timezone", "Mars/Olympus"], ["--timezone", "../../etc/passwd"],
                 ["--checkout-at", "25:00"], ["--checkout-at", "4am"],
                 ["--timezone", "UTC", "--checkout-at", "noon"], []):
        result = cli("venue", "set", *args, check=False)
        assert result.returncode == 2, (args, result.stdout, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert len(lines) == 1 and lines[0].startswith("station: error: "), (args, lines)
        assert "Traceback" not in result.stderr
    assert cli("venue", "show", "--json").stdout == before
