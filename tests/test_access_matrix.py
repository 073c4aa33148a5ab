"""Every route × every role × own and other agency answers as DESIGN.md's role table says."""
import importlib
import pkgutil

import pytest

import tests.access_cases
from tests.access import PUBLIC, ROLES, build_world, user_for
from tests.helpers import PASSWORD


def all_cases():
    cases = []
    for module in pkgutil.iter_modules(tests.access_cases.__path__):
        cases += importlib.import_module(f"tests.access_cases.{module.name}").CASES
    return cases


CASES = all_cases()


def test_every_endpoint_has_an_access_case(app):
    covered = {(case.endpoint, case.method) for case in CASES}
    missing = []
    for rule in app.url_map.iter_rules():
        if rule.endpoint in PUBLIC:
            continue
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            if (rule.endpoint, method) not in covered:
                missing.append(f"{method} {rule.rule} ({rule.endpoint})")
    assert not missing, "routes without an access case in tests/access_cases/: " + ", ".join(sorted(missing))


def _request(client, case, side):
    from flask import url_for
    kwargs = case.params(side) if case.params else {}
    with client.application.test_request_context():
        url = url_for(case.endpoint, **kwargs) + case.query
    data = case.data(side) if callable(case.data) else case.data
    if case.method == "GET":
        response = client.get(url)
    else:
        response = client.open(url, method=case.method, data=data or {})
    response.get_data()  # run a streamed body to its end, so its request context closes
    response.close()
    return response


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.method} {c.endpoint}")
def test_access(app, case):
    world = build_world()
    for side_name in ("own", "other"):
        side = getattr(world, side_name)
        anonymous = app.test_client()
        response = _request(anonymous, case, side)
        if response.status_code != 401:
            assert response.status_code == 302 and "/login" in response.headers["Location"], \
                f"anonymous {case.method} {case.endpoint} ({side_name}) answered {response.status_code}"
        for role in ROLES:
            client = app.test_client()
            user = user_for(world, role)
            login = client.post("/login", data={"email": user.email, "password": PASSWORD})
            assert login.status_code == 302
            response = _request(client, case, side)
            expected = case.expectation(role, side_name)
            where = f"{role} {case.method} {case.endpoint} on {side_name} agency's record"
            if expected == "deny":
                assert response.status_code == 404, f"{where}: expected 404, got {response.status_code}"
            else:
                assert response.status_code < 400 or response.status_code in (400, 409, 422), \
                    f"{where}: expected access, got {response.status_code}"
                if not case.lands_on_login:
                    assert "/login" not in response.headers.get("Location", ""), f"{where}: sent to login"
