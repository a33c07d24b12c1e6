"""What a patient holds: the certificate's QR code (PNG, segno) and a printable page (PDF, fpdf2)."""

from __future__ import annotations

import io
import unicodedata
from datetime import date

import segno
from fpdf import FPDF

from shared.services.certificates import Certificate

# The eHealth Network asks for error correction level Q for the HC1 QR code.
QR_ERROR = "q"


def qr_png(hc1: str, scale: int = 4) -> bytes:
    buffer = io.BytesIO()
    segno.make(hc1, error=QR_ERROR, micro=False).save(buffer, kind="png", scale=scale, border=4)
    return buffer.getvalue()


def certificate_pdf(certificate: Certificate, holder: str, birth_date: date) -> bytes:
    """One A4 page: the QR code with what it certifies (text in Polish, core fonts: ASCII-safe)."""
    pdf = FPDF(format="A4")
    pdf.set_title("Unijny certyfikat COVID")
    pdf.set_creator("e-Rejestracja")
    pdf.add_page()
    pdf.set_font("Helvetica", "B", 18)
    pdf.cell(0, 12, _latin1("Unijny certyfikat COVID - szczepienie"), new_x="LMARGIN", new_y="NEXT")
    pdf.set_font("Helvetica", size=12)
    for line in (
        f"Posiadacz: {holder}",
        f"Data urodzenia: {birth_date.isoformat()}",
        f"Dawka: {certificate.dose}",
        f"Wydano: {certificate.issued_at.date().isoformat()}",
        f"Identyfikator (UVCI): {certificate.uvci}",
    ):
        pdf.cell(0, 8, _latin1(line), new_x="LMARGIN", new_y="NEXT")
    pdf.image(io.BytesIO(qr_png(certificate.hc1, scale=6)), x=pdf.l_margin, y=pdf.get_y() + 6, w=120)
    return bytes(pdf.output())


class CertificateDocuments:
    """The documents port (``shared.services.certificates.DocumentRenderer``)."""

    def qr_png(self, hc1: str) -> bytes:
        return qr_png(hc1)

    def pdf(self, certificate: Certificate, holder: str, birth_date: date) -> bytes:
        return certificate_pdf(certificate, holder, birth_date)


def _latin1(text: str) -> str:
    """The PDF core fonts are Latin-1: Polish letters outside it lose their diacritics (ą -> a, ł -> l)."""
    folded = []
    for char in text:
        if ord(char) < 256:
            folded.append(char)
        else:
            base = unicodedata.normalize("NFKD", char.replace("Ł", "L").replace("ł", "l"))
            folded.append("".join(c for c in base if ord(c) < 128 and not unicodedata.combining(c)))
    return "".join(folded)
