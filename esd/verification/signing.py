"""PDF packets signed (PAdES) with the installation's key, so any PDF reader shows an alteration.

On first use a key and a self-signed certificate are generated into `instance/signing/`. An agency
that has its own certificate (from its PKI or a commercial CA, which readers trust without
asking) sets PDF_SIGNING_KEY and PDF_SIGNING_CERT (PEM files; PDF_SIGNING_KEY_PASSPHRASE and
PDF_SIGNING_CHAIN optional) and that one is used instead.
"""
from __future__ import annotations

import asyncio
import io
import os
import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timedelta, timezone

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from flask import current_app
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers

FIELD = "ESDK9Signature"
_generating = threading.Lock()


def _instance_pair() -> tuple[str, str]:
    """The installation's key and certificate in instance/signing/, generated on first use."""
    folder = os.path.join(current_app.instance_path, "signing")
    key_path, cert_path = os.path.join(folder, "key.pem"), os.path.join(folder, "cert.pem")
    with _generating:
        if not (os.path.exists(key_path) and os.path.exists(cert_path)):
            os.makedirs(folder, mode=0o700, exist_ok=True)
            generate_key_pair(key_path, cert_path, current_app.config.get("PDF_SIGNER_NAME") or "ESD K9 Tracker")
    return key_path, cert_path


def generate_key_pair(key_path: str, cert_path: str, name: str) -> None:
    key = ec.generate_private_key(ec.SECP256R1())
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, f"{name} packet signing"),
                         x509.NameAttribute(NameOID.ORGANIZATION_NAME, name)])
    now = datetime.now(timezone.utc)
    cert = (x509.CertificateBuilder().subject_name(subject).issuer_name(subject).public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - timedelta(minutes=5)).not_valid_after(now + timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.KeyUsage(digital_signature=True, content_commitment=True, key_encipherment=False,
                                         data_encipherment=False, key_agreement=False, key_cert_sign=False,
                                         crl_sign=False, encipher_only=False, decipher_only=False), critical=True)
            .sign(key, hashes.SHA256()))
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)  # the key: owner only
    with os.fdopen(descriptor, "wb") as out:
        out.write(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                    serialization.NoEncryption()))
    with open(cert_path, "wb") as out:
        out.write(cert.public_bytes(serialization.Encoding.PEM))


def signing_files() -> tuple[str, str]:
    """The key and certificate files in use: the configured agency pair, else the installation's."""
    key, cert = current_app.config.get("PDF_SIGNING_KEY"), current_app.config.get("PDF_SIGNING_CERT")
    if key and cert:
        return key, cert
    return _instance_pair()


def _signer() -> signers.SimpleSigner:
    key, cert = signing_files()
    passphrase = current_app.config.get("PDF_SIGNING_KEY_PASSPHRASE")
    chain = current_app.config.get("PDF_SIGNING_CHAIN")
    signer = signers.SimpleSigner.load(key, cert, ca_chain_files=(chain,) if chain else None,
                                       key_passphrase=passphrase.encode() if passphrase else None)
    if signer is None:
        raise RuntimeError(f"could not load the PDF signing key {key} and certificate {cert}")
    return signer


def sign_pdf(pdf: bytes, reason: str) -> bytes:
    """The PDF with a PAdES signature of the installation (or the configured agency) appended."""
    meta = signers.PdfSignatureMetadata(field_name=FIELD, subfilter=fields.SigSeedSubFilter.PADES,
                                        md_algorithm="sha256", reason=reason,
                                        name=current_app.config.get("PDF_SIGNER_NAME") or "ESD K9 Tracker")
    out = off_event_loop(signers.sign_pdf, IncrementalPdfFileWriter(io.BytesIO(pdf)), meta, _signer())
    return out.getvalue()


def off_event_loop(fn, *args):
    """Call one of pyHanko's synchronous functions, which run `asyncio.run` inside.

    That refuses to start in a thread already running an event loop (a server or test tool built
    on asyncio), so there the call goes to a thread of its own.
    """
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return fn(*args)
    with ThreadPoolExecutor(max_workers=1) as pool:
        return pool.submit(fn, *args).result()
