"""The hub's own TLS key and self-signed certificate, kept in its data directory.

Made once and re-used at every start, so the fingerprint in the join URL stays the same for as
long as the hub's data directory lives. Stations trust this one certificate (pinned by its
SHA-256 fingerprint, see pinning.py), so no certificate authority is involved and the names in
it only matter to ordinary TLS tools.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ipaddress
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

log = logging.getLogger(__name__)

CERT_FILE = "hub-cert.pem"
KEY_FILE = "hub-key.pem"
VALIDITY = datetime.timedelta(days=100 * 365)  # the pin is what is trusted, not the dates


def fingerprint(der: bytes) -> str:
    """A certificate's SHA-256 in base64url without padding: 43 characters, safe in a URL and
    in a shell word."""
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()).rstrip(b"=").decode()


@dataclass(frozen=True, slots=True)
class HubCertificate:
    cert_file: Path
    key_file: Path
    fingerprint: str


def _names(hosts: list[str]) -> list[x509.GeneralName]:
    names: list[x509.GeneralName] = [x509.DNSName("localhost")]
    for host in dict.fromkeys(["127.0.0.1", *hosts]):
        try:
            names.append(x509.IPAddress(ipaddress.ip_address(host)))
        except ValueError:
            names.append(x509.DNSName(host))
    return names


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        fh.write(data)
    os.chmod(path, 0o600)  # also when the file was there with wider permissions


def hub_certificate(hub_dir: Path, hosts: list[str]) -> HubCertificate:
    """The hub's certificate, made on first use. `hosts` (the LAN address) go into its names."""
    cert_path, key_path = hub_dir / CERT_FILE, hub_dir / KEY_FILE
    if cert_path.is_file() and key_path.is_file():
        cert = x509.load_pem_x509_certificate(cert_path.read_bytes())
        return HubCertificate(cert_path, key_path,
                              fingerprint(cert.public_bytes(serialization.Encoding.DER)))
    hub_dir.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "Station venue hub")])
    now = datetime.datetime.now(datetime.timezone.utc)
    cert = (x509.CertificateBuilder()
            .subject_name(name).issuer_name(name)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - datetime.timedelta(days=1))  # a door whose clock is behind
            .not_valid_after(now + VALIDITY)
            .add_extension(x509.SubjectAlternativeName(_names(hosts)), critical=False)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .sign(key, hashes.SHA256()))
    _write_private(key_path, key.private_bytes(serialization.Encoding.PEM,
                                               serialization.PrivateFormat.PKCS8,
                                               serialization.NoEncryption()))
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    der = cert.public_bytes(serialization.Encoding.DER)
    log.info("hub: made its TLS certificate (fingerprint sha256=%s)", fingerprint(der))
    return HubCertificate(cert_path, key_path, fingerprint(der))
