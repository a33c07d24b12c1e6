"""The local document signer: a key made once on first use, kept, and agreed on by every process;
the KMS signer turns KMS's DER signature into COSE's r||s."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import Prehashed, encode_dss_signature

from shared.adapters.dcc_signing import KmsSigner, LocalKeySigner


def verify(pem: str, data: bytes, raw: bytes) -> None:
    key = serialization.load_pem_public_key(pem.encode())
    assert isinstance(key, ec.EllipticCurvePublicKey) and len(raw) == 64
    der = encode_dss_signature(int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big"))
    key.verify(der, data, ec.ECDSA(hashes.SHA256()))


def test_the_local_key_is_made_once_and_kept(tmp_path: Path) -> None:
    path = tmp_path / "state" / "dcc-signing-key.pem"
    first = LocalKeySigner(path)
    signature = first.sign(b"to be signed")
    verify(first.public_key_pem(), b"to be signed", signature)
    assert path.stat().st_mode & 0o777 == 0o600
    again = LocalKeySigner(path)  # the next start
    assert again.kid() == first.kid() and again.public_key_pem() == first.public_key_pem()
    spki = serialization.load_pem_public_key(first.public_key_pem().encode()).public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    assert first.kid() == base64.b64encode(hashlib.sha256(spki).digest()[:8]).decode()
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary file left


class FakeKms:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())
        self.requests: list[dict[str, Any]] = []

    def get_public_key(self, request: dict[str, Any]) -> Any:
        pem = self.key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return SimpleNamespace(pem=pem.decode())

    def asymmetric_sign(self, request: dict[str, Any]) -> Any:
        self.requests.append(request)

        return SimpleNamespace(
            signature=self.key.sign(request["digest"]["sha256"], ec.ECDSA(Prehashed(hashes.SHA256())))
        )


def test_the_kms_signer_sends_a_digest_and_returns_r_and_s() -> None:
    kms = FakeKms()
    signer = KmsSigner(kms, "projects/p/locations/europe-central2/keyRings/r/cryptoKeys/k/cryptoKeyVersions/1")
    raw = signer.sign(b"sig structure")
    verify(signer.public_key_pem(), b"sig structure", raw)
    assert kms.requests[0]["digest"]["sha256"] == hashlib.sha256(b"sig structure").digest()
    assert kms.requests[0]["name"].endswith("cryptoKeyVersions/1")
