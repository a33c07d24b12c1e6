"""The EU Digital COVID Certificate (vaccination), as the eHealth Network specifies it. No I/O.

A certificate is the DCC JSON payload (schema 1.3) inside a CWT (claims iss, iat, exp and -260 hcert),
signed as COSE_Sign1 with ES256 (the key id in the protected header), CBOR-encoded, zlib-compressed,
Base45-encoded and prefixed ``HC1:``. The signature itself comes from outside (a ``sign`` callable
over the COSE Sig_structure): a local key or Cloud KMS, so this module never holds a key.

References: eHealth Network "Technical Specifications for EU Digital COVID Certificates" vol. 1
(CWT, COSE, HC1), vol. 2/3 (UVCI, ICAO 9303 names), and the DCC JSON schema 1.3.0 with its value sets.
"""

from __future__ import annotations

import base64
import hashlib
import json
import unicodedata
import zlib
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

import base45
import cbor2
from pycose.headers import KID, Algorithm
from pycose.messages.sign1message import Sign1Message

from shared.domain.local_time import WARSAW

SCHEMA_VERSION = "1.3.0"
COUNTRY = "PL"
ISSUER = "Centrum e-Zdrowia"
HC1_PREFIX = "HC1:"
COVID_19 = "840539006"  # SNOMED CT, the disease-agent-targeted value set
ES256 = -7  # COSE algorithm id
CWT_ISS, CWT_EXP, CWT_IAT, CWT_HCERT = 1, 4, 6, -260
VALIDITY = timedelta(days=365)
UVCI_PREFIX = f"URN:UVCI:01:{COUNTRY}:"
# The Luhn mod N alphabet of the UVCI checksum (eHealth Network guidelines, annex 2).
UVCI_CHECK_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ/:"


@dataclass(frozen=True)
class Product:
    """A vaccine as the DCC value sets name it."""

    prophylaxis: str  # vp: vaccine-prophylaxis
    product: str  # mp: vaccine-medicinal-product (EU register number)
    manufacturer: str  # ma: vaccine-mah-manf (EMA organisation id)


# The programme's vaccine codes -> DCC value-set codes. A vaccine missing here gets no certificate.
PRODUCTS: dict[str, Product] = {
    "comirnaty": Product("1119349007", "EU/1/20/1528", "ORG-100030215"),
    "spikevax": Product("1119349007", "EU/1/20/1507", "ORG-100031184"),
    "vaxzevria": Product("J07BX03", "EU/1/21/1529", "ORG-100001699"),
    "jcovden": Product("J07BX03", "EU/1/20/1525", "ORG-100001417"),
    "nuvaxovid": Product("J07BX03", "EU/1/21/1618", "ORG-100032020"),
}

# ICAO 9303 part 3, transliteration of multinational Latin characters (those NFKD does not reduce).
_ICAO = {"Ä": "AE", "Æ": "AE", "Å": "AA", "Ö": "OE", "Ø": "OE", "Ü": "UE", "ß": "SS", "Ł": "L", "Đ": "D",
         "Ð": "D", "Þ": "TH", "Ĳ": "IJ", "Œ": "OE", "Ŧ": "T", "Ħ": "H", "Ŀ": "L"}  # fmt: skip


class NoCertificate(ValueError):
    """The vaccination cannot be certified (a vaccine without an EU product code)."""


def icao_name(name: str) -> str:
    """A name as the machine-readable zone writes it: A-Z, separators as ``<``, at most 80 characters."""
    out: list[str] = []
    for char in name.upper():
        if char in _ICAO:
            out.append(_ICAO[char])
        elif char in " -,":
            out.append("<")
        else:
            base = "".join(c for c in unicodedata.normalize("NFKD", char) if not unicodedata.combining(c))
            out.append("".join(c for c in base if "A" <= c <= "Z"))
    collapsed = "<".join(part for part in "".join(out).split("<") if part)
    return collapsed[:80]


def luhn_mod_n(text: str, alphabet: str = UVCI_CHECK_ALPHABET) -> str:
    n = len(alphabet)
    factor, total = 2, 0
    for char in reversed(text):
        addend = factor * alphabet.index(char)
        factor = 1 if factor == 2 else 2
        total += addend // n + addend % n
    return alphabet[(n - total % n) % n]


def uvci(visit_id: str, revision: int) -> str:
    """The certificate's identifier: opaque, unique per visit and revision, with its check character.

    The check alphabet has ``/`` and ``:``; an identifier whose check character would be one is
    drawn again (another salt), so every UVCI is one URL path segment and one Firestore id.
    """
    for salt in range(64):
        digest = hashlib.sha256(f"{visit_id}|{revision}|{salt}".encode()).digest()[:15]
        body = f"{UVCI_PREFIX}{base64.b32encode(digest).decode().rstrip('=')}"
        check = luhn_mod_n(body.removeprefix("URN:UVCI:"))
        if check.isalnum():
            return f"{body}#{check}"
    raise AssertionError("unreachable: 64 draws without an alphanumeric check character")


def key_id(public_key_der: bytes) -> str:
    """The kid: Base64 of the first 8 bytes of the SHA-256 of the key's DER SubjectPublicKeyInfo."""
    return base64.b64encode(hashlib.sha256(public_key_der).digest()[:8]).decode()


@dataclass(frozen=True)
class VaccinationFacts:
    """What a vaccination certificate says about one dose."""

    visit_id: str
    patient_id: str
    given_name: str
    family_name: str
    birth_date: date
    vaccine: str
    dose: int
    total_doses: int
    vaccinated_at: datetime

    def payload(self, certificate_id: str) -> dict[str, Any]:
        product = PRODUCTS.get(self.vaccine)
        if product is None:
            raise NoCertificate(f"vaccine {self.vaccine!r} has no EU product code")
        return {
            "ver": SCHEMA_VERSION,
            "nam": {
                "fn": self.family_name,
                "fnt": icao_name(self.family_name),
                "gn": self.given_name,
                "gnt": icao_name(self.given_name),
            },
            "dob": self.birth_date.isoformat(),
            "v": [
                {
                    "tg": COVID_19,
                    "vp": product.prophylaxis,
                    "mp": product.product,
                    "ma": product.manufacturer,
                    "dn": self.dose,
                    "sd": max(self.total_doses, self.dose),
                    "dt": self.vaccinated_at.astimezone(WARSAW).date().isoformat(),
                    "co": COUNTRY,
                    "is": ISSUER,
                    "ci": certificate_id,
                }
            ],
        }

    def fingerprint(self) -> str:
        """Changes exactly when what the certificate states changes (never with its id or times)."""
        content = self.payload("")
        return hashlib.sha256(json.dumps(content, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def cwt_claims(payload: dict[str, Any], issued_at: datetime) -> dict[int, Any]:
    iat = int(issued_at.timestamp())
    return {
        CWT_ISS: COUNTRY,
        CWT_IAT: iat,
        CWT_EXP: iat + int(VALIDITY.total_seconds()),
        CWT_HCERT: {1: payload},
    }


def hc1(claims: dict[int, Any], kid: str, sign: Callable[[bytes], bytes]) -> str:
    """The ``HC1:`` string of the claims, signed by ``sign`` (raw ES256 r||s over the Sig_structure)."""
    message = Sign1Message(phdr={Algorithm: ES256, KID: base64.b64decode(kid)}, payload=cbor2.dumps(claims))
    # pycose signs with a key object it holds; the key is outside (KMS), so sign its Sig_structure.
    message.signature = sign(message._create_sig_structure())
    cose: bytes = message.encode(tag=True, sign=False)
    encoded: bytes = base45.b45encode(zlib.compress(cose, 9))
    return HC1_PREFIX + encoded.decode()
