"""An independent EU DCC decoder for the tests: no code of the issuer, only the specification.

HC1 -> Base45 -> zlib -> COSE_Sign1 (CBOR tag 18) -> signature checked with ``cryptography`` against a
trust-list key -> CWT claims -> the DCC payload, checked against the rules of schema 1.3.
"""

from __future__ import annotations

import base64
import hashlib
import re
import zlib
from dataclasses import dataclass
from datetime import date
from typing import Any

import base45
import cbor2
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.asymmetric.utils import encode_dss_signature

UVCI = re.compile(r"^URN:UVCI:01:PL:[A-Z0-9]{1,30}#[A-Z0-9]$")
ICAO = re.compile(r"^[A-Z<]{1,80}$")
DAY = re.compile(r"^\d{4}-\d{2}-\d{2}$")
VALUE_SETS = {
    "tg": {"840539006"},
    "vp": {"1119305005", "1119349007", "J07BX03"},
    "mp": {"EU/1/20/1528", "EU/1/20/1507", "EU/1/21/1529", "EU/1/20/1525", "EU/1/21/1618"},
    "ma": {"ORG-100001699", "ORG-100030215", "ORG-100001417", "ORG-100031184", "ORG-100032020"},
}


@dataclass(frozen=True)
class Decoded:
    kid: str
    claims: dict[int, Any]

    @property
    def payload(self) -> dict[str, Any]:
        hcert: dict[str, Any] = self.claims[-260][1]
        return hcert


def decode(hc1: str, trust_list: list[dict[str, str]]) -> Decoded:
    """Decode and verify; AssertionError on any departure from the specification."""
    assert hc1.startswith("HC1:"), hc1[:8]
    cose = zlib.decompress(base45.b45decode(hc1[4:]))
    message = cbor2.loads(cose)
    assert isinstance(message, cbor2.CBORTag) and message.tag == 18, "not a tagged COSE_Sign1"
    protected_bytes, unprotected, payload, signature = message.value
    protected = cbor2.loads(protected_bytes)
    assert protected[1] == -7, "alg must be ES256"
    kid = base64.b64encode(protected[4]).decode()
    assert 4 not in unprotected, "the kid belongs in the protected header"
    keys = {k["kid"]: k for k in trust_list}
    assert kid in keys, f"kid {kid} is not on the trust list"
    public_key = serialization.load_pem_public_key(keys[kid]["public_key_pem"].encode())
    assert isinstance(public_key, ec.EllipticCurvePublicKey)
    spki = public_key.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert base64.b64encode(hashlib.sha256(spki).digest()[:8]).decode() == kid, "kid is not the key's"
    to_be_signed = cbor2.dumps(["Signature1", protected_bytes, b"", payload])
    assert len(signature) == 64
    der = encode_dss_signature(int.from_bytes(signature[:32], "big"), int.from_bytes(signature[32:], "big"))
    public_key.verify(der, to_be_signed, ec.ECDSA(hashes.SHA256()))  # raises InvalidSignature
    return Decoded(kid, cbor2.loads(payload))


def check_payload(decoded: Decoded) -> dict[str, Any]:
    """The DCC schema 1.3 rules of a vaccination certificate; returns its one vaccination entry."""
    claims = decoded.claims
    assert claims[1] == "PL" and isinstance(claims[6], int) and claims[4] > claims[6], claims
    dcc = decoded.payload
    assert dcc["ver"] == "1.3.0"
    assert set(dcc) == {"ver", "nam", "dob", "v"}, "a vaccination certificate has no t or r entries"
    assert ICAO.match(dcc["nam"]["fnt"]) and ICAO.match(dcc["nam"]["gnt"]), dcc["nam"]
    assert DAY.match(dcc["dob"]) and date.fromisoformat(dcc["dob"])
    assert len(dcc["v"]) == 1
    entry: dict[str, Any] = dcc["v"][0]
    assert set(entry) == {"tg", "vp", "mp", "ma", "dn", "sd", "dt", "co", "is", "ci"}
    for field, allowed in VALUE_SETS.items():
        assert entry[field] in allowed, (field, entry[field])
    assert 1 <= entry["dn"] <= entry["sd"] <= 9
    assert DAY.match(entry["dt"]) and entry["co"] == "PL" and 0 < len(entry["is"]) <= 80
    assert UVCI.match(entry["ci"]) and luhn_mod_n_valid(entry["ci"].removeprefix("URN:UVCI:")), entry["ci"]
    return entry


def luhn_mod_n_valid(text: str, alphabet: str = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/:") -> bool:
    """The UVCI check character (the one after ``#``) validates its body."""
    body, _, check = text.partition("#")
    n = len(alphabet)
    factor, total = 1, 0
    for char in reversed(body + check):
        addend = factor * alphabet.index(char)
        factor = 2 if factor == 1 else 1
        total += addend // n + addend % n
    return total % n == 0
