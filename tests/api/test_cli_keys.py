from __future__ import annotations

import json

from tests.conftest import StationCLI


def test_keys_create_list_revoke(cli: StationCLI) -> None:
    created = cli("keys", "create", "Zapier")
    key = created.stdout.strip()
    assert key.startswith("2pk_") and len(key) == 40 and "shown only now" in created.stderr
    listed = json.loads(cli("keys", "list", "--json").stdout)
    assert [k["name"] for k in listed] == ["Zapier"] and listed[0]["rateLimit"] == 30
    assert key not in cli("keys", "list").stdout  # only a prefix is ever shown again
    bench = json.loads(cli("keys", "create", "bench", "--rate-limit", "100000", "--json").stdout)
    assert bench["rateLimit"] == 100000 and bench["key"].startswith("2pk_")
    assert "revoked" in cli("keys", "revoke", listed[0]["id"]).stdout
    states = {k["name"]: k["revokedAt"] for k in json.loads(cli("keys", "list", "--json").stdout)}
    assert states["Zapier"] is not None and states["bench"] is None
    missing = cli("keys", "revoke", "key_nope", check=False)
    assert missing.returncode == 2 and "No API key has id" in missing.stderr
    bad = cli("keys", "create", "x", "--rate-limit", "0", check=False)
    assert bad.returncode == 2 and "rate limit" in bad.stderr
    flag = cli("serve", "--allow-webhook-network", "not-a-net", check=False)
    assert flag.returncode == 2 and "not a network" in flag.stderr
