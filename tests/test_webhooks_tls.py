"""WH-2 over TLS: the relay checks a receiver's certificate; WEBHOOK_CA_FILE adds the CAs of a private PKI.
RULES: WH-2
"""

from __future__ import annotations

import dataclasses
import ipaddress
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from services.webhooks import endpoints, relay
from settings import Settings
from tests.webhook_receiver import Receiver, emit_for, receiver


def _name(common_name: str) -> x509.Name:
    return x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, common_name)])


def _pem(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )


@pytest.fixture
def pki(tmp_path: Path) -> dict[str, str]:
    """A private CA, and a certificate it signed for 127.0.0.1 (the receiver's)."""
    now = datetime.now(UTC)
    ca_key, leaf_key = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    ca = (
        x509.CertificateBuilder()
        .subject_name(_name("Test private CA"))
        .issuer_name(_name("Test private CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(x509.KeyUsage(False, False, False, False, False, True, True, False, False), critical=True)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    leaf = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca.subject)
        .public_key(leaf_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - timedelta(minutes=5))
        .not_valid_after(now + timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = {"ca": tmp_path / "ca.pem", "cert": tmp_path / "receiver.pem", "key": tmp_path / "receiver.key"}
    files["ca"].write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    files["cert"].write_bytes(leaf.public_bytes(serialization.Encoding.PEM))
    files["key"].write_bytes(_pem(leaf_key))
    return {name: str(path) for name, path in files.items()}


@pytest.fixture
def tls_hook(clock: Any, pki: dict[str, str]) -> Iterator[Receiver]:
    with receiver(lambda: int(clock.now().timestamp()), tls=(pki["cert"], pki["key"])) as found:
        yield found


async def test_wh_2_a_receiver_behind_a_private_ca_is_refused_until_webhook_ca_file_names_the_ca(
    db, app, run, tls_hook: Receiver, pki: dict[str, str]
) -> None:
    assert tls_hook.url.startswith("https://127.0.0.1:")
    tls_hook.secret = (await run(endpoints.add, tls_hook.url, None)).secret
    await run(emit_for, 7, 1)
    deps = app.state.deps
    # The public CAs only: the certificate is not trusted, nothing reaches the receiver, the delivery waits
    async with relay.http_client(deps) as http:
        assert await relay.relay_once(db, deps, http) == {"delivered": 0, "retried": 1, "failed": 0}
    assert tls_hook.received == []
    # With the private CA added, the retry is delivered, signed
    trusting = SimpleNamespace(settings=dataclasses.replace(deps.settings, webhook_ca_file=pki["ca"]))
    app.state.deps.clock.advance(seconds=13)  # past the first backoff (10 s, up to a quarter more)
    async with relay.http_client(trusting) as http:
        assert await relay.relay_once(db, deps, http) == {"delivered": 1, "retried": 0, "failed": 0}
    (got,) = tls_hook.received
    assert got.valid
    assert got.body["data"] == {"reviewItemId": 1, "outcome": "approved"}


def test_wh_2_webhook_ca_file_must_be_a_readable_pem_file(tmp_path: Path, pki: dict[str, str]) -> None:
    assert Settings.from_env({"WEBHOOK_CA_FILE": pki["ca"]}).webhook_ca_file == pki["ca"]
    not_pem = tmp_path / "not.pem"
    not_pem.write_text("not a certificate")
    for path in (str(not_pem), str(tmp_path / "missing.pem")):
        with pytest.raises(ValueError, match="WEBHOOK_CA_FILE must be a readable PEM file"):
            Settings.from_env({"WEBHOOK_CA_FILE": path})
