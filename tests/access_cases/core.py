"""Access cases of the main and auth areas."""
from tests.access import EVERYONE, Route

CASES = [
    Route("main.home", EVERYONE),
    Route("auth.change_password", EVERYONE),
    Route("auth.change_password", EVERYONE, method="POST"),
    Route("auth.logout", EVERYONE, method="POST", lands_on_login=True),
    # Two-factor sign-in: one's own enrolment; the code step and cancelling only matter before sign-in.
    Route("auth.two_factor_setup", EVERYONE),
    Route("auth.two_factor_setup", EVERYONE, method="POST", data={"code": "000000"}),
    Route("auth.two_factor_code", EVERYONE),
    Route("auth.two_factor_code", EVERYONE, method="POST", data={"code": "000000"}),
    Route("auth.two_factor_cancel", EVERYONE, method="POST"),
]
