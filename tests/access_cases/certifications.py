"""Access cases of the certifications area: record readers see the board and certificates of their agency;
managers record and renew; notifications belong to their user alone."""
import os

from flask import current_app

from esd.extensions import db
from esd.models import Notification
from tests.access import EVERYONE, MANAGERS, RECORD_READERS, Route, ok_for


def with_certificate(side) -> dict:
    """The side's certification with a certificate file on disk (a tiny PDF), as the view needs one."""
    cert = side.certification
    if not cert.certificate_file:
        folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "certificates")
        os.makedirs(folder, exist_ok=True)
        name = f"access-{cert.id}-{side.name.lower()}.pdf"
        with open(os.path.join(folder, name), "wb") as fh:
            fh.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n")
        cert.certificate_file, cert.certificate_name, cert.certificate_mime = name, "cert.pdf", "application/pdf"
        db.session.commit()
    return {"certification_id": cert.id}


def notification_of(side) -> dict:
    """An unread notification of the side's manager."""
    item = Notification(user_id=side.manager.id, message="Test notice", link="/certifications")
    db.session.add(item)
    db.session.commit()
    return {"notification_id": item.id}


def cert(side) -> dict:
    return {"certification_id": side.certification.id}


CASES = [
    Route("certifications.board", RECORD_READERS),
    Route("certifications.board_csv", RECORD_READERS),
    Route("certifications.upcoming", RECORD_READERS),
    Route("certifications.new_certification", MANAGERS),
    Route("certifications.new_certification", MANAGERS, params=lambda side: {"dog_id": side.dog.id}),
    # Nothing filled in: the form answers 400 with its messages.
    Route("certifications.new_certification", MANAGERS, method="POST", data={}),
    Route("certifications.certification_detail", RECORD_READERS, params=cert),
    Route("certifications.renew_certification", MANAGERS, params=cert),
    Route("certifications.renew_certification", MANAGERS, method="POST", params=cert, data={}),
    Route("certifications.correct_certification", MANAGERS, params=cert),
    # No reason given: the form answers 400 with its messages.
    Route("certifications.correct_certification", MANAGERS, method="POST", params=cert, data={}),
    Route("certifications.archive_certification", MANAGERS, method="POST", params=cert),
    Route("certifications.certificate_file", RECORD_READERS, params=with_certificate),
    Route("certifications.notifications", EVERYONE),
    Route("certifications.mark_all_read", EVERYONE, method="POST"),
    # Only the notification's own user may mark it read; for everyone else it does not exist.
    Route("certifications.mark_read", ok_for("manager"), method="POST", params=notification_of,
          other=ok_for()),
    Route("certifications.account", EVERYONE),
    Route("certifications.account", EVERYONE, method="POST", data={"email_reminders": "y"}),
]
