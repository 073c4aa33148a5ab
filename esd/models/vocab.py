"""Vocabularies as data: device types, hiding spots, environments, certifying bodies, location types."""
from sqlalchemy import Boolean, CheckConstraint, Integer, String, UniqueConstraint, select
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import enum_check

VOCAB_KINDS = ("device_type", "hiding_spot", "environment", "certifying_body", "location_type")

DEFAULT_VOCABULARIES = {
    "device_type": ["microSD card", "SD card", "USB drive", "SIM card", "Phone", "Tablet", "Laptop",
                    "Hard drive", "SSD", "Smartwatch", "Camera", "Game console", "Router", "CD/DVD"],
    "hiding_spot": ["Book", "Ceiling tile", "Hollowed coin", "Electrical outlet", "Light fixture",
                    "Furniture", "Clothing", "Vehicle", "Floorboard", "Buried", "Drawer",
                    "Appliance", "Toy", "Wall cavity", "Container", "Bedding"],
    "environment": ["Residence", "Office", "Vehicle", "Outdoor", "Warehouse", "School",
                    "Storage unit", "Retail"],
    "certifying_body": ["NAPWDA", "NNDDA", "USPCA", "NPCA", "In-house"],
    "location_type": ["Residence", "Business", "Vehicle", "Storage unit", "Outdoor", "Jail / prison",
                      "Hotel room"],
}


class VocabularyTerm(db.Model):
    """One term of one vocabulary, ordered; deactivated rather than deleted."""

    __tablename__ = "vocabulary_term"
    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))
    name: Mapped[str] = mapped_column(String(80))
    position: Mapped[int] = mapped_column(Integer, default=0)
    active: Mapped[bool] = mapped_column(Boolean, default=True)

    __table_args__ = (
        UniqueConstraint("kind", "name"),
        CheckConstraint(enum_check("kind", VOCAB_KINDS), name="kind"),
    )

    def __repr__(self) -> str:
        return f"<{self.kind} {self.name}>"


def terms(kind: str, include_inactive: bool = False) -> list[VocabularyTerm]:
    """The terms of one vocabulary in display order."""
    stmt = select(VocabularyTerm).where(VocabularyTerm.kind == kind)
    if not include_inactive:
        stmt = stmt.where(VocabularyTerm.active.is_(True))
    return list(db.session.scalars(stmt.order_by(VocabularyTerm.position, VocabularyTerm.name)))


def seed_vocabularies() -> int:
    """Insert the default terms that are missing; return how many were added."""
    existing = {(t.kind, t.name) for t in db.session.scalars(select(VocabularyTerm))}
    added = 0
    for kind, names in DEFAULT_VOCABULARIES.items():
        for position, name in enumerate(names):
            if (kind, name) not in existing:
                db.session.add(VocabularyTerm(kind=kind, name=name, position=position))
                added += 1
    return added
