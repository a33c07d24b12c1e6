"""The document signer port (``shared.services.certificates.DccSigner``): a P-256 key for ES256.

Locally a key generated on first use and kept in a PEM file (``EREG_DCC_SIGNING_KEY_FILE``, under the
state directory); in the cloud an asymmetric Cloud KMS key (EC_SIGN_P256_SHA256, ``infra/kms.tf``),
whose private half never leaves KMS.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import threading
from functools import cached_property
from pathlib import Path
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import decode_dss_signature

from shared.domain.dcc import key_id

COORDINATE_BYTES = 32  # P-256


def raw_signature(der: bytes) -> bytes:
    """A DER ECDSA signature (what cryptography and KMS give) as COSE's fixed-length r||s."""
    r, s = decode_dss_signature(der)
    return r.to_bytes(COORDINATE_BYTES, "big") + s.to_bytes(COORDINATE_BYTES, "big")


def _spki_der(public_key: ec.EllipticCurvePublicKey) -> bytes:
    return public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)


class LocalKeySigner:
    """A P-256 key in a PEM file, made on first start (atomically: concurrent workers agree on one)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    @cached_property
    def _key(self) -> ec.EllipticCurvePrivateKey:
        with self._lock:
            if not self.path.exists():
                self._create()
            key = serialization.load_pem_private_key(self.path.read_bytes(), password=None)
        if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
            raise ValueError(f"{self.path} is not a P-256 private key")
        return key

    def _create(self) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
        )
        temporary = self.path.with_name(f".{self.path.name}.{os.getpid()}.{threading.get_ident()}")
        descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
        # link() fails if another process made the key first: then theirs is the key.
        with contextlib.suppress(FileExistsError):
            os.link(temporary, self.path)
        temporary.unlink()

    def kid(self) -> str:
        return key_id(_spki_der(self._key.public_key()))

    def public_key_pem(self) -> str:
        return (
            self._key.public_key()
            .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
            .decode()
        )

    def sign(self, data: bytes) -> bytes:
        return raw_signature(self._key.sign(data, ec.ECDSA(hashes.SHA256())))


class KmsSigner:
    """An asymmetric Cloud KMS key version (``projects/.../cryptoKeyVersions/N``), EC_SIGN_P256_SHA256."""

    def __init__(self, client: Any, key_version: str) -> None:
        self.client = client  # google.cloud.kms.KeyManagementServiceClient
        self.key_version = key_version

    @cached_property
    def _public_key(self) -> ec.EllipticCurvePublicKey:
        response = self.client.get_public_key(request={"name": self.key_version})
        key = serialization.load_pem_public_key(response.pem.encode())
        if not isinstance(key, ec.EllipticCurvePublicKey):
            raise ValueError(f"{self.key_version} is not an EC key")
        return key

    def kid(self) -> str:
        return key_id(_spki_der(self._public_key))

    def public_key_pem(self) -> str:
        return self._public_key.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def sign(self, data: bytes) -> bytes:
        digest = hashlib.sha256(data).digest()
        response = self.client.asymmetric_sign(request={"name": self.key_version, "digest": {"sha256": digest}})
        return raw_signature(bytes(response.signature))
