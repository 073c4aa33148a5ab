"""The PDF packet is signed (PAdES): pyHanko's validator finds the signature intact and made by
the installation's certificate, and finds it broken after one byte of the document is changed."""
from __future__ import annotations

import io
import os

import pytest
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext

from esd.verification.signing import off_event_loop, signing_files
from tests.test_packet import AS_OF, rex  # noqa: F401  (fixture)

PASSWORD = "correct horse battery staple"


def signed_record(client, dog, manager) -> bytes:
    client.post("/login", data={"email": manager.email, "password": PASSWORD})
    response = client.get(f"/dogs/{dog.id}/reliability-record.pdf?as_of={AS_OF.isoformat()}")
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    return response.data


def validate(pdf: bytes, cert_path: str):
    """pyHanko's validation of the document's one signature, trusting `cert_path`."""
    reader = PdfFileReader(io.BytesIO(pdf))
    assert len(reader.embedded_signatures) == 1
    context = ValidationContext(trust_roots=[load_cert_from_pemder(cert_path)])
    # pyHanko's synchronous validator runs asyncio.run: off the browser tests' event loop.
    return off_event_loop(validate_pdf_signature, reader.embedded_signatures[0], context)


def test_the_pdf_validates_with_the_installations_certificate(app, client, rex):
    dog, manager = rex
    pdf = signed_record(client, dog, manager)
    key, cert = signing_files()
    assert key.startswith(app.instance_path) and os.stat(key).st_mode & 0o077 == 0  # the key: owner only
    status = validate(pdf, cert)
    assert status.intact and status.valid and status.trusted and status.bottom_line
    assert status.coverage.name == "ENTIRE_FILE"


def test_one_byte_changed_breaks_the_signature(client, rex):
    dog, manager = rex
    pdf = bytearray(signed_record(client, dog, manager))
    # A byte of the signed content (the first page's drawing), not of the signature itself.
    at = pdf.index(b"stream", 2000) + 40
    pdf[at] = (pdf[at] + 1) % 256
    _, cert = signing_files()
    status = validate(bytes(pdf), cert)
    assert not status.intact and not status.bottom_line  # the document digest no longer matches


def test_an_agency_certificate_from_configuration_is_used_instead(app, client, rex, tmp_path):
    from esd.verification.signing import generate_key_pair
    key, cert = str(tmp_path / "agency-key.pem"), str(tmp_path / "agency-cert.pem")
    generate_key_pair(key, cert, "Metro ICAC")  # as if issued to the agency
    app.config.update(PDF_SIGNING_KEY=key, PDF_SIGNING_CERT=cert)
    try:
        dog, manager = rex
        pdf = signed_record(client, dog, manager)
        assert validate(pdf, cert).trusted
        app.config.pop("PDF_SIGNING_KEY"), app.config.pop("PDF_SIGNING_CERT")
        assert not validate(pdf, signing_files()[1]).trusted  # not signed by the installation's key
    finally:
        app.config.pop("PDF_SIGNING_KEY", None)
        app.config.pop("PDF_SIGNING_CERT", None)
