"""Which stations' keys this station trusts, once it has enrolled (docs/sync-trust.md).

Before enrolment (a station of a hub from before issue 15) every key found on the hub is
trusted, as it always was. Enrolment brings the organisation's public key and this station's
certificate; from then on a key is trusted only with a certificate that key signed, and a key
whose station was removed (a removal record the organisation key signed) is not trusted any
more: passes it signed are checked against `removed` (services/scans.py).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from station.domain import token_v2, tokens, trust
from station.services.context import Context

log = logging.getLogger(__name__)

TRUST_SETTING = "sync_trust"  # {"org", "orgKey", "certificate"}: set by enrolment
CERTIFIED_SETTING = "sync_certified_keys"  # {stationId: key}: whose key each certificate names
REMOVED_SETTING = "sync_removed_keys"  # [{stationId, name, key, removedAt}]


@dataclass(frozen=True, slots=True)
class RemovedKey:
    station_id: str
    name: str
    key: Ed25519PublicKey
    removed_at: str


class KeyTrust:
    def __init__(self, ctx: Context) -> None:
        self._ctx = ctx
        self._ignored: set[str] = set()  # bucket entries already logged as not trusted

    # --- enrolment ------------------------------------------------------------------------------
    def org_key(self) -> Ed25519PublicKey | None:
        """The organisation's public key (None: not enrolled, every hub key is trusted)."""
        saved = self._ctx.store.setting(TRUST_SETTING)
        if not isinstance(saved, dict):
            return None
        return trust.public_key(str(saved.get("orgKey")))

    def certificate(self) -> dict[str, Any] | None:
        """This station's certificate, as it goes into the hub's keys bucket."""
        saved = self._ctx.store.setting(TRUST_SETTING)
        cert = saved.get("certificate") if isinstance(saved, dict) else None
        return cert if isinstance(cert, dict) else None

    def save_enrolment(self, org: str, org_key_b64: str, certificate: object) -> None:
        """Keep what the hub's enrolment desk replied, after checking it certifies our key."""
        org_key = trust.public_key(org_key_b64)
        cert = trust.read_certificate(certificate, org_key)
        own = trust.key_b64(self._ctx.keys.private.public_key())
        if cert.key != own or cert.station_id != self._ctx.station_id:
            raise trust.Untrusted("the certificate is for another station's key")
        before = self._ctx.store.setting(TRUST_SETTING)
        self._ctx.store.set_setting(TRUST_SETTING, {"org": org, "orgKey": org_key_b64,
                                                   "certificate": certificate})
        if isinstance(before, dict) and before.get("orgKey") == org_key_b64:
            return  # enrolled again in the same organisation: what it trusts stays
        dropped = self._ctx.keys.keep_only_own()
        log.info("enrolled in organisation %s: only keys the organisation certified are "
                 "trusted from now on, for passes and events (%d key(s) trusted before "
                 "enrolment dropped)", org, dropped)

    def migration_note(self) -> str | None:
        """What the window's sync line says while this station trusts uncertified keys."""
        if self.org_key() is None:
            return ("This station trusts every key on the hub, and each station's events "
                    "signed by the key it first named there (it joined before enrolment "
                    "existed): join again with the hub's current join URL.")
        return None

    # --- the hub's buckets ------------------------------------------------------------------------
    def learn(self, entries: Mapping[str, bytes]) -> int:
        """Trust the certified keys among the keys bucket's entries; log the others once.
        Removals must be learned first (a removed station's certificate stays valid)."""
        org_key = self.org_key()
        assert org_key is not None
        removed = {trust.key_b64(r.key) for r in self.removed()}
        known = set(self._ctx.keys.public_keys_b64())
        added = 0
        for name, raw in entries.items():
            try:
                cert = trust.read_certificate(_json(raw), org_key)
            except trust.Untrusted as exc:
                if name not in self._ignored:
                    self._ignored.add(name)
                    log.warning("the hub's key %s is not trusted: %s (a door that has not "
                                "enrolled, or not one of ours)", name, exc)
                continue
            if cert.key in removed:
                continue
            self._remember(cert)
            if cert.key in known:
                continue
            self._ctx.keys.trust(cert.key)
            added += 1
        return added

    def _remember(self, cert: trust.Certified) -> None:
        certified = dict(self._ctx.store.setting(CERTIFIED_SETTING, {}))
        if certified.get(cert.station_id) != cert.key:
            certified[cert.station_id] = cert.key
            self._ctx.store.set_setting(CERTIFIED_SETTING, certified)

    def certified_keys(self) -> dict[str, str]:
        """Station id -> the signing key (base64) the organisation certified for it, as learned
        from the hub (for checking that an event's origin is the station whose key signed it)."""
        certified = dict(self._ctx.store.setting(CERTIFIED_SETTING, {}))
        removed = {trust.key_b64(r.key) for r in self.removed()}
        return {sid: key for sid, key in certified.items() if key not in removed}

    def decided_station_ids(self) -> set[str]:
        """Stations whose key this station has settled: certified here, or removed."""
        certified = self._ctx.store.setting(CERTIFIED_SETTING, {})
        return set(certified) | {r.station_id for r in self.removed()}

    def learn_removals(self, entries: Mapping[str, bytes]) -> int:
        """Stop trusting the keys of stations the organisation removed."""
        org_key = self.org_key()
        if org_key is None:
            return 0
        saved = {r["key"] for r in self._ctx.store.setting(REMOVED_SETTING, [])}
        added = 0
        for raw in entries.values():
            try:
                removal = trust.read_removal(_json(raw), org_key)
                trust.public_key(removal.key)
            except trust.Untrusted as exc:
                log.warning("a removal record on the hub does not verify (%s); ignored", exc)
                continue
            self._ctx.keys.distrust(removal.key)
            if removal.key in saved:
                continue
            records = list(self._ctx.store.setting(REMOVED_SETTING, []))
            records.append({"stationId": removal.station_id, "name": removal.name,
                            "key": removal.key, "removedAt": removal.removed_at})
            self._ctx.store.set_setting(REMOVED_SETTING, records)
            saved.add(removal.key)
            added += 1
            log.warning("station %s (%s) was removed from the organisation: passes its key "
                        "signs are refused unless this door already holds them",
                        removal.name, removal.station_id)
        return added

    def removed(self) -> list[RemovedKey]:
        out = []
        for r in self._ctx.store.setting(REMOVED_SETTING, []):
            try:
                out.append(RemovedKey(str(r["stationId"]), str(r["name"]),
                                      trust.public_key(str(r["key"])), str(r["removedAt"])))
            except (KeyError, TypeError, trust.Untrusted):
                continue
        return out

    def removed_signer(self, kid: str) -> RemovedKey | None:
        return next((r for r in self.removed() if tokens.key_id(r.key) == kid), None)


def _json(raw: bytes) -> object:
    try:
        return json.loads(raw)
    except (ValueError, UnicodeDecodeError):
        raise trust.Untrusted("it carries no certificate from the organisation") from None


class SignedByRemoved(tokens.BadToken):
    """A pass token signed by the key of a station the organisation removed."""

    def __init__(self, claims: tokens.Claims, signer: RemovedKey) -> None:
        super().__init__(f"signed by {signer.name}, a station removed from the organisation "
                         f"at {signer.removed_at}")
        self.claims = claims
        self.signer = signer


def removed_signer(ctx: Context, token: str) -> SignedByRemoved | None:
    """SignedByRemoved when a removed station's key signed `token`, else None."""
    removed = KeyTrust(ctx).removed()
    if not removed:
        return None
    for signer in removed:
        try:
            claims = token_v2.verify_any(token, [signer.key])
        except tokens.BadToken:
            continue
        return SignedByRemoved(claims, signer)
    return None
