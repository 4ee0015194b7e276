"""A throw-away certificate authority for loopback TLS servers and token signing.

Real registries are reached over HTTPS with verification, so the tests need a server certificate that
a client can verify against a CA file it is given (and that fails without it). The same module makes
the token server's signing key: distribution 2.8 trusts a JWT when the certificate of its signing key
is in the registry's `rootcertbundle` and the JWT's `kid` header is the libtrust key ID of that key.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import ssl
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_VALIDITY = datetime.timedelta(days=2)


@dataclass(frozen=True)
class CertificateAuthority:
    """A self-signed CA and a server certificate it issued for 127.0.0.1 and localhost."""

    ca_file: Path
    """PEM of the CA certificate: what a client passes as its CA bundle."""
    cert_file: Path
    """PEM of the server certificate (issued by the CA; SANs 127.0.0.1, ::1 and localhost)."""
    key_file: Path
    """PEM of the server's private key (unencrypted)."""

    def server_context(self) -> ssl.SSLContext:
        """An `ssl.SSLContext` for a Python server (aiohttp) presenting the server certificate."""
        ctx = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
        ctx.load_cert_chain(str(self.cert_file), str(self.key_file))
        return ctx

    def client_context(self) -> ssl.SSLContext:
        """An `ssl.SSLContext` for a Python client that trusts only this CA."""
        return ssl.create_default_context(cafile=str(self.ca_file))


@dataclass(frozen=True)
class SigningKey:
    """An EC P-256 key for ES256 JWTs, with its self-signed certificate and libtrust key ID."""

    private_key_pem: bytes
    cert_file: Path
    """PEM certificate of the key: the registry's `auth.token.rootcertbundle`."""
    kid: str
    """The libtrust key ID, put in the JWT header so that the registry finds the key."""


def _name(common_name: str) -> x509.Name:
    return x509.Name(
        [
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "aimsource tests"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )


def _pem_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )


def make_certificate_authority(directory: Path) -> CertificateAuthority:
    """Write a new CA and a server certificate for loopback names into `directory`."""
    import ipaddress

    directory.mkdir(parents=True, exist_ok=True)
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)

    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("aimsource test CA"))
        .issuer_name(_name("aimsource test CA"))
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=True,
                crl_sign=True,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), critical=False)
        .sign(ca_key, hashes.SHA256())
    )

    server_key = ec.generate_private_key(ec.SECP256R1())
    server_cert = (
        x509.CertificateBuilder()
        .subject_name(_name("127.0.0.1"))
        .issuer_name(ca_cert.subject)
        .public_key(server_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .add_extension(
            x509.SubjectAlternativeName(
                [
                    x509.DNSName("localhost"),
                    x509.IPAddress(ipaddress.ip_address("127.0.0.1")),
                    x509.IPAddress(ipaddress.ip_address("::1")),
                ]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.SERVER_AUTH]), critical=False)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), critical=False
        )
        .sign(ca_key, hashes.SHA256())
    )

    ca_file = directory / "ca.pem"
    cert_file = directory / "server.pem"
    key_file = directory / "server-key.pem"
    ca_file.write_bytes(ca_cert.public_bytes(serialization.Encoding.PEM))
    cert_file.write_bytes(server_cert.public_bytes(serialization.Encoding.PEM))
    key_file.write_bytes(_pem_key(server_key))
    key_file.chmod(0o600)
    return CertificateAuthority(ca_file=ca_file, cert_file=cert_file, key_file=key_file)


def client_verify(ca_file: Path | None) -> ssl.SSLContext | bool:
    """httpx's `verify=` for a server whose CA is `ca_file` (system trust when None)."""
    return ssl.create_default_context(cafile=str(ca_file)) if ca_file is not None else True


def libtrust_key_id(public_key: ec.EllipticCurvePublicKey) -> str:
    """The key ID docker/libtrust derives from a public key (what distribution matches `kid` against).

    base32 of the first 240 bits of sha256(DER SubjectPublicKeyInfo), in groups of 4 joined by ':'.
    """
    der = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    encoded = base64.b32encode(hashlib.sha256(der).digest()[:30]).decode().rstrip("=")
    return ":".join(encoded[i : i + 4] for i in range(0, len(encoded), 4))


def make_signing_key(directory: Path) -> SigningKey:
    """Write a token-signing key's certificate into `directory` and return the key."""
    directory.mkdir(parents=True, exist_ok=True)
    key = ec.generate_private_key(ec.SECP256R1())
    now = datetime.datetime.now(datetime.UTC) - datetime.timedelta(minutes=5)
    cert = (
        x509.CertificateBuilder()
        .subject_name(_name("aimsource test token issuer"))
        .issuer_name(_name("aimsource test token issuer"))
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + _VALIDITY)
        .sign(key, hashes.SHA256())
    )
    cert_file = directory / "token-signing.pem"
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return SigningKey(
        private_key_pem=_pem_key(key), cert_file=cert_file, kid=libtrust_key_id(key.public_key())
    )
