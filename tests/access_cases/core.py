"""Access cases of the main and auth areas."""
from tests.access import EVERYONE, Route

CASES = [
    Route("main.home", EVERYONE),
    Route("auth.change_password", EVERYONE),
    Route("auth.change_password", EVERYONE, method="POST"),
    Route("auth.logout", EVERYONE, method="POST", lands_on_login=True),
]
