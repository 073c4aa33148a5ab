"""Access cases of the dogs area: record readers see their agency's dogs and handlers; managers change them."""
import os

from flask import current_app

from esd.extensions import db
from tests.access import MANAGERS, RECORD_READERS, Route

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32


def _with_photo(side) -> dict:
    """Give the side's dog a photo on disk so that the photo route has something to serve."""
    folder = os.path.join(current_app.config["UPLOAD_FOLDER"], "dogs")
    os.makedirs(folder, exist_ok=True)
    name = f"access-{side.dog.id}.png"
    with open(os.path.join(folder, name), "wb") as fh:
        fh.write(PNG)
    side.dog.photo_filename = name
    db.session.commit()
    return {"dog_id": side.dog.id}


dog = lambda side: {"dog_id": side.dog.id}  # noqa: E731
team = lambda side: {"team_id": side.team.id}  # noqa: E731
handler = lambda side: {"handler_id": side.handler.id}  # noqa: E731

CASES = [
    Route("dogs.list_dogs", RECORD_READERS),
    Route("dogs.list_dogs", RECORD_READERS, query="?status=active&archived=1"),
    Route("dogs.new_dog", MANAGERS),
    # Nothing filled in: the form answers 400 with its messages, never 500.
    Route("dogs.new_dog", MANAGERS, method="POST", data={}),
    Route("dogs.dog_detail", RECORD_READERS, params=dog),
    Route("dogs.dog_photo", RECORD_READERS, params=_with_photo),
    Route("dogs.edit_dog", MANAGERS, params=dog),
    Route("dogs.edit_dog", MANAGERS, method="POST", params=dog, data={}),
    Route("dogs.archive_dog", MANAGERS, method="POST", params=dog),
    Route("dogs.new_team", MANAGERS, params=dog),
    Route("dogs.new_team", MANAGERS, method="POST", params=dog, data={}),
    Route("dogs.end_team", MANAGERS, params=team),
    Route("dogs.end_team", MANAGERS, method="POST", params=team, data={}),
    Route("dogs.list_handlers", RECORD_READERS),
    Route("dogs.new_handler", MANAGERS),
    Route("dogs.new_handler", MANAGERS, method="POST", data={}),
    Route("dogs.handler_detail", RECORD_READERS, params=handler),
    Route("dogs.edit_handler", MANAGERS, params=handler),
    Route("dogs.edit_handler", MANAGERS, method="POST", params=handler, data={}),
    Route("dogs.archive_handler", MANAGERS, method="POST", params=handler),
]
