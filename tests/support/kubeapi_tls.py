"""HTTPS for the emulated API server, and client certificates for mutual TLS.

A real API server is always HTTPS, and in a pod the operator trusts it through
the service account's ca.crt; a kubeconfig may also authenticate with a client
certificate. To exercise those paths of `aimsource.kube.config` for real, the
emulator can serve TLS with a loopback certificate from `tests.support.tls` and
accept client certificates issued by a separate client CA made here.
"""

from __future__ import annotations

import datetime
import ssl
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp.test_utils
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

from tests.support.tls import CertificateAuthority, make_certificate_authority

__all__ = ["ClientCertificate", "ServerTLS", "make_client_certificate", "make_server_tls"]


@dataclass(frozen=True)
class ClientCertificate:
    ca_file: Path
    """The client CA the server trusts."""
    cert_file: Path
    key_file: Path


@dataclass(frozen=True)
class ServerTLS:
    """What the emulator needs to serve HTTPS (and, with `client_ca_file`, to accept client certificates)."""

    authority: CertificateAuthority
    client_ca_file: Path | None = None

    def context(self) -> ssl.SSLContext:
        context = self.authority.server_context()
        if self.client_ca_file is not None:
            context.load_verify_locations(cafile=str(self.client_ca_file))
            context.verify_mode = ssl.CERT_OPTIONAL  # a token is the other way in
        return context


def make_server_tls(directory: Path, *, client: ClientCertificate | None = None) -> ServerTLS:
    return ServerTLS(
        make_certificate_authority(directory / "server"), client.ca_file if client is not None else None
    )


def make_client_certificate(directory: Path, *, user: str = "aimsource") -> ClientCertificate:
    """A client CA and a client certificate for `user`, issued by it, as PEM files."""
    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    later = now + datetime.timedelta(days=2)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "kubeapi client CA")])
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, user)]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(later)
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), critical=False)
        .sign(ca_key, hashes.SHA256())
    )
    files = ClientCertificate(
        directory / "client-ca.pem", directory / "client.pem", directory / "client-key.pem"
    )
    files.ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    files.cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    files.key_file.write_bytes(key_pem)
    files.key_file.chmod(0o600)
    return files


class TLSTestServer(aiohttp.test_utils.RawTestServer):
    """aiohttp's raw test server (what kmock.Server runs), listening with TLS."""

    def __init__(self, handler: Any, *, ssl_context: ssl.SSLContext, **kwargs: Any) -> None:
        super().__init__(handler, **kwargs)
        self._tls_context = ssl_context

    async def start_server(self, loop: Any = None, **kwargs: Any) -> None:
        await super().start_server(loop=loop, ssl=self._tls_context, **kwargs)
