"""The demo's field alerts: every find was an alert the dog made that a recovered device confirmed,
and some searches add alerts where nothing was recovered, unverified or explained."""
from __future__ import annotations

from sqlalchemy import exists, insert, literal, select

from ..models import Deployment, FieldAlert, Find, VocabularyTerm

WHERE = ("Bedroom closet, top shelf", "Desk, second drawer", "Vehicle glove box", "Kitchen, above the cabinets",
         "Garage workbench", "Living room, under the couch cushions", "Basement storage shelf")
EXPLANATIONS = (
    "The occupant handed a phone to the case agent before the search; the dog alerted where it had lain.",
    "Residual odour: a laptop was charged there; the owner had taken it to work.",
    "A USB drive was seized from this drawer at an earlier search.",
    "An empty hard drive enclosure; the drive itself was not in the house.",
)


def add_field_alerts(writer) -> int:
    """Write the demo's field alerts with the writer's connection, random stream and bulk insert; return how many."""
    conn, rng = writer.conn, writer.rng
    confirmed = conn.execute(insert(FieldAlert).from_select(
        ["deployment_id", "hiding_spot_id", "outcome", "find_id"],
        select(Find.deployment_id, Find.hiding_spot_id, literal("confirmed"), Find.id).order_by(Find.id))).rowcount
    spots = list(conn.scalars(select(VocabularyTerm.id).where(VocabularyTerm.kind == "hiding_spot")
                              .order_by(VocabularyTerm.id)))
    rows = []
    with_finds = exists().where(Find.deployment_id == Deployment.id)
    for deployment_id, found in conn.execute(select(Deployment.id, with_finds).order_by(Deployment.id)):
        if rng.random() >= (0.04 if found else 0.15):
            continue
        explained = rng.random() < 0.35
        rows.append(dict(deployment_id=deployment_id, hiding_spot_id=rng.choice(spots) if spots else None,
                         location_note=rng.choice(WHERE), outcome="explained" if explained else "unverified",
                         find_id=None, explanation=rng.choice(EXPLANATIONS) if explained else None))
    writer.insert(FieldAlert, rows)
    return (confirmed or 0) + len(rows)
