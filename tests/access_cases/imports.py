"""Access cases of the import area: managers and admins; an upload belongs to the user who made it alone."""
import io

from esd.imports import uploads
from tests.access import MANAGERS, Route, ok_for

# A file with a header to match (Item), a value that is not ours and a row that cannot be imported.
LOG = ("K9,session date,Item,hiding spot,Result,Remarks\n"
       "{dog},2024-03-10 09:30,micro sd,Book,found,fine\n"
       "Ghost,2024-03-10 09:30,USB drive,Drawer,missed,\n")


def upload_of(side) -> dict:
    """An upload kept for the side's manager, waiting at its mapping step."""
    kept = uploads.store(io.BytesIO(LOG.format(dog=side.dog.name).encode()), "log.csv", side.manager, side.agency.id)
    uploads.dry_run(kept)
    return {"token": kept.token}


# Only the manager who uploaded reaches it; for everyone else (an admin included) it does not exist.
OWNER = ok_for("manager")

CASES = [
    Route("imports.index", MANAGERS),
    # Nothing chosen: the form answers 400 with its message beside the field.
    Route("imports.upload", MANAGERS, method="POST", data={}),
    Route("imports.template", MANAGERS, params=lambda side: {"kind": "hides"}, other=MANAGERS),
    Route("imports.workbook", MANAGERS),
    Route("imports.mapping", OWNER, params=upload_of, other=ok_for()),
    Route("imports.mapping", OWNER, method="POST", params=upload_of, other=ok_for(), data={}),
    Route("imports.preview", OWNER, params=upload_of, other=ok_for()),
    Route("imports.refused_csv", OWNER, params=upload_of, other=ok_for()),
    # No fingerprint: back to the preview, nothing written.
    Route("imports.confirm", OWNER, method="POST", params=upload_of, other=ok_for(), data={}),
    Route("imports.discard", OWNER, method="POST", params=upload_of, other=ok_for()),
]
