"""Connecting to the hub over TLS only, and to the right hub only.

A join URL pins the hub's certificate by its SHA-256 (url.py). Before any credential leaves
this station, a TLS handshake alone fetches the certificate the server at that address shows
(nothing else is sent: no NATS protocol, no password) and its fingerprint is compared with the
pin. Only on a match does nats-py connect, with an SSLContext that trusts exactly that
certificate and nothing else, and with the TLS handshake first (before the server's INFO): a
server swapped in between the look and the connection fails the handshake, and a server that
pretends TLS is not needed never gets a plaintext CONNECT line.

A `tls://` URL without a pin is a venue's own NATS: checked against the CA file given with
--sync-ca (or the system's trusted CAs), by host name, as any TLS client does.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from typing import Any

import nats
from nats.aio.client import Client as NATS

from station.net.sync.certificate import fingerprint
from station.net.sync.ended import HubNotTrusted, PlaintextRefused
from station.net.sync.url import SyncTarget

PROBE_TIMEOUT_S = 5.0


class _SslEofNotice(logging.Filter):
    """asyncio warns "returning true from eof_received() has no effect when using ssl" each
    time a TLS peer closes a stream connection (nats-py's, when the hub hangs up after a
    close): a quirk of asyncio's stream protocol over SSL, not a problem, so not logged."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "eof_received() has no effect when using ssl" not in record.getMessage()


logging.getLogger("asyncio").addFilter(_SslEofNotice())


def plaintext_sentence(target: SyncTarget) -> str:
    return (f"The saved sync URL for {target.hub} is an old plaintext one (nats://), which this "
            "station no longer uses: paste the hub's current join URL (tls://…#sha256=…, the "
            "first line `station hub` prints) into Integrations → Sync or give it to --sync.")


def mismatch_sentence(target: SyncTarget) -> str:
    return (f"The hub at {target.hub} is not the one this join URL names (certificate "
            "fingerprint differs); ask for the hub's current join URL.")


def untrusted_sentence(target: SyncTarget, exc: ssl.SSLCertVerificationError) -> str:
    return (f"The certificate of the server at {target.hub} is not trusted "
            f"({exc.verify_message}): use the hub's join URL (with #sha256=…), or give a venue "
            "server's CA with --sync-ca.")


def _look_only() -> ssl.SSLContext:
    look = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    look.check_hostname = False
    look.verify_mode = ssl.CERT_NONE  # only to read the certificate, which the caller compares
    return look


async def probe_certificate(host: str, port: int, timeout: float = PROBE_TIMEOUT_S,
                            ctx: ssl.SSLContext | None = None) -> bytes:
    """The certificate (DER) the server at host:port shows in a TLS handshake (checked by `ctx`
    when given). Only the handshake happens: not one byte of NATS protocol is sent."""
    reader, writer = await asyncio.wait_for(
        asyncio.open_connection(host, port, ssl=ctx or _look_only(),
                                server_hostname=host if ctx is not None else None), timeout)
    try:
        ssl_object = writer.get_extra_info("ssl_object")
        der = ssl_object.getpeercert(binary_form=True) if ssl_object is not None else None
    finally:
        writer.close()
        try:
            await asyncio.wait_for(writer.wait_closed(), timeout)
        except (OSError, ssl.SSLError, asyncio.TimeoutError):
            pass  # the look is over either way
    if not der:
        raise ssl.SSLError("the server showed no certificate")
    return bytes(der)


def pinned_context(der: bytes) -> ssl.SSLContext:
    """A client context that trusts exactly this certificate. Names are not checked: the pin
    is the hub's identity, and the address it is reached at may change (mDNS, DHCP)."""
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_REQUIRED
    ctx.load_verify_locations(cadata=der)
    return ctx


async def tls_options(target: SyncTarget) -> dict[str, Any]:
    """nats.connect's TLS arguments for `target`, after checking a pinned hub's certificate.
    Raises PlaintextRefused for a nats:// URL, HubNotTrusted when the pin does not match."""
    if target.plaintext:
        raise PlaintextRefused(plaintext_sentence(target))
    if target.fingerprint:
        der = await probe_certificate(target.host, target.port)
        if fingerprint(der) != target.fingerprint:
            raise HubNotTrusted(mismatch_sentence(target))
        return {"tls": pinned_context(der), "tls_handshake_first": True}
    ctx = ssl.create_default_context(cafile=target.ca_file or None)
    try:
        await probe_certificate(target.host, target.port, ctx=ctx)
    except ssl.SSLCertVerificationError as exc:  # TLS first, and a certificate nobody vouches for
        raise HubNotTrusted(untrusted_sentence(target, exc)) from exc
    except ssl.SSLError:
        # Not TLS first: the usual NATS way (plaintext INFO, then TLS), which nats-py follows.
        return {"tls": ctx, "tls_hostname": target.host}
    return {"tls": ctx, "tls_hostname": target.host, "tls_handshake_first": True}


def no_tls_sentence(target: SyncTarget) -> str:
    return (f"The server at {target.hub} did not answer with TLS (a hub from before TLS, or not "
            "a hub): update it, then paste the hub's current join URL.")


async def connect_hub(target: SyncTarget, tls: dict[str, Any] | None = None,
                      **options: Any) -> NATS:
    """nats.connect to `target` over TLS as above (`tls`: tls_options' result when the caller
    already has it); `options` are nats.connect's others."""
    if tls is None:
        tls = await tls_options(target)
    return await nats.connect(servers=[target.server_url()], user=target.user,
                              password=target.password, **tls, **options)
