"""domain/trust.py: what the organisation key signs verifies, and nothing altered or signed by
another key does (issue 15)."""

from __future__ import annotations

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from station.domain import trust


def _cert() -> trust.Certified:
    door = Ed25519PrivateKey.generate()
    return trust.Certified("org_x", "sta_door", "Door A", trust.key_b64(door.public_key()),
                           "2026-12-03T12:00:00Z")


def test_a_certificate_verifies_with_the_organisation_key_only() -> None:
    org = Ed25519PrivateKey.generate()
    cert = _cert()
    record = trust.certify(org, cert)
    assert trust.read_certificate(record, org.public_key()) == cert
    with pytest.raises(trust.Untrusted):
        trust.read_certificate(record, Ed25519PrivateKey.generate().public_key())
    for field, value in (("stationId", "sta_other"), ("key", trust.key_b64(
            Ed25519PrivateKey.generate().public_key())), ("name", "Door B")):
        with pytest.raises(trust.Untrusted):
            trust.read_certificate({**record, field: value}, org.public_key())
    # A removal record is not a certificate, even signed by the same key.
    removal = trust.sign_removal(org, trust.Removal("org_x", "sta_door", "Door A", cert.key,
                                                    "2026-12-03T13:00:00Z"))
    with pytest.raises(trust.Untrusted):
        trust.read_certificate(removal, org.public_key())
    assert trust.read_removal(removal, org.public_key()).station_id == "sta_door"


def test_an_enrolment_request_proves_the_key_it_asks_to_certify() -> None:
    door = Ed25519PrivateKey.generate()
    request = trust.enrolment_request(door, "sta_door", "Door A", "$2a$04$" + "x" * 53,
                                      "2026-12-03T12:00:00Z")
    assert trust.read_enrolment_request(request)["stationId"] == "sta_door"
    # Someone else's key in a request signed with ours (to have their key certified as ours).
    other = trust.key_b64(Ed25519PrivateKey.generate().public_key())
    with pytest.raises(trust.Untrusted):
        trust.read_enrolment_request({**request, "key": other})
    with pytest.raises(trust.Untrusted):
        trust.read_enrolment_request("not a request")
