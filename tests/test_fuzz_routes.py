"""Every route of the app, for each role, with hostile input: out-of-range ids, calendar edges, NUL
bytes, Unicode digits, huge strings and wrong types. No answer may be a 5xx.

Routes come from the app's URL map and their valid parameters from the access matrix
(`tests/access_cases/`), so a route added tomorrow is walked too. Forms are read from the page that
shows them: each field is sent with hostile values while the others keep the page's own values,
so a value that passes every check reaches the database. The API gets a valid session body with one
key at a time replaced.
"""
from __future__ import annotations

import re
import time
from urllib.parse import parse_qsl
from html.parser import HTMLParser

import pytest
from flask import url_for

from tests.access import ROLES, build_world, user_for
from tests.helpers import PASSWORD, term
from tests.test_access_matrix import CASES

HUGE_ID = "99999999999999999999"
IDS = [HUGE_ID, "2147483648", "\u0661", "\u00b2", "-1", "1e19"]
DATES = ["9999-12-31", "0001-01-01", "\u0661\u0669\u0669\u0660-\u0660\u0661-\u0660\u0661", "2026-02-30"]
TEXTS = ["\x00", "x" * 20_000, "\u0662\u0660"]
EVERY = [HUGE_ID, "\u0661", "9999-12-31", "0001-01-01", "\x00", "x" * 20_000]
# Names the views read from query strings; each is also sent alone with its worst values.
QUERY_IDS = ("page", "dog", "handler", "agency", "dog_id", "user")
QUERY_DATES = ("start", "end", "as_of")
QUERY_OTHER = ("status", "sort", "dir", "kind", "after", "q", "purpose", "blind", "archived", "next", "entity",
               "with_finds", "saved")
# Routes whose success ends the walk's session; they are walked by the access matrix instead.
SKIP = {("auth.logout", "POST"), ("static", "GET"), ("bootstrap.static", "GET")}


class FormReader(HTMLParser):
    """The fields of the first form with method=post on a page, with the values the page gives them."""

    def __init__(self):
        super().__init__()
        self.fields: dict[str, tuple[str, str]] = {}  # name -> (kind, value)
        self.in_form = self.done = False
        self.select = self.textarea = None

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag == "form" and (a.get("method") or "").lower() == "post" and not self.done \
                and "logout" not in (a.get("action") or ""):
            self.in_form = True
        if not self.in_form or not a.get("name"):
            if tag == "option" and self.select and self.in_form:
                self._option(a)
            return
        name = a["name"]
        if tag == "input":
            kind = (a.get("type") or "text").lower()
            if kind in ("submit", "button", "file"):
                return
            if kind in ("checkbox", "radio") and "checked" not in a:
                self.fields.setdefault(name, (kind, ""))
                return
            self.fields[name] = (kind, a.get("value") or "")
        elif tag == "select":
            self.select = name
            self.fields.setdefault(name, ("select", ""))
        elif tag == "textarea":
            self.textarea = name
            self.fields[name] = ("textarea", "")

    def _option(self, a):
        kind, value = self.fields[self.select]
        if "selected" in a or (not value and a.get("value")):
            self.fields[self.select] = (kind, a.get("value") or "")

    def handle_data(self, data):
        if self.textarea:
            self.fields[self.textarea] = ("textarea", data)

    def handle_endtag(self, tag):
        if tag == "select":
            self.select = None
        elif tag == "textarea":
            self.textarea = None
        elif tag == "form" and self.in_form:
            self.in_form, self.done = False, True


def hostile_values(name: str, kind: str) -> list:
    if kind == "date" or name in QUERY_DATES or name.endswith("_on") or name == "day":
        return DATES[:3]
    if kind in ("select", "number", "hidden") or name.endswith("_id") or name in QUERY_IDS:
        return [HUGE_ID, "\u0661", "1e19"]
    if kind in ("checkbox", "radio"):
        return ["\u0661"]
    return ["x" * 20_000, "\u0662\u0660", "9999-12-31"]  # NUL is sent to every field at once below


class Walk:
    """Requests of one role, counted; every 5xx is kept with what caused it."""

    def __init__(self, app, world, role):
        self.app, self.world, self.role = app, world, role
        self.count, self.failures = 0, []
        self.client = None
        self.login()

    def login(self):
        self.client = self.app.test_client()
        user = user_for(self.world, self.role)
        response = self.client.post("/login", data={"email": user.email, "password": PASSWORD})
        assert response.status_code == 302, f"{self.role} cannot log in"

    def send(self, method, url, what, **kwargs):
        if "query_string" in kwargs and "?" in url:
            url, _, own = url.partition("?")
            kwargs["query_string"] = dict(parse_qsl(own)) | kwargs["query_string"]
        response = self.client.open(url, method=method, **kwargs)
        body = response.get_data()  # a streamed body runs to its end here: a failure mid-stream counts
        response.close()
        self.count += 1
        if response.status_code >= 500:
            self.failures.append(f"{self.role} {method} {url[:120]!r} {what}: {response.status_code}")
        return response, body


def endpoint_params(world) -> dict[str, dict]:
    """Valid path parameters of each endpoint, from the access matrix (the user's own agency)."""
    found = {}
    for case in CASES:
        if case.params and case.endpoint not in found:
            found[case.endpoint] = case.params(world.own)
    return found


def path_variants(app, rule, params) -> list[tuple[str, str]]:
    """The route's valid URL, then the URL with each integer part replaced by hostile values."""
    with app.test_request_context():
        url = url_for(rule.endpoint, **params)
    variants = [(url, "valid path")]
    for name in rule.arguments:
        if name not in params or not isinstance(params[name], int):
            continue
        pattern = re.compile(rf"/{params[name]}(?=/|\.|$)")
        for bad in IDS[:4]:
            variants.append((pattern.sub(f"/{bad}", url, count=1), f"path {name}={bad!r}"))
    return variants


def api_body(world) -> dict:
    side = world.own
    return {"client_uuid": None, "dog_id": side.dog.id, "handler_id": side.handler.id,
            "started_at": "2026-03-01T10:00", "duration_minutes": 45, "location": "School",
            "environment_id": term("environment").id, "purpose": "maintenance", "temperature_c": 12,
            "wind": "light", "precipitation": "none", "blank_areas": 1, "notes": "n",
            "hides": [{"device_type_id": term("device_type").id, "hiding_spot_id": term("hiding_spot").id,
                       "outcome": "found", "seconds_to_find": 30, "blind": True, "height": "low",
                       "concealment": "concealed", "aid_set_minutes": 10}],
            "false_alerts": [{"hiding_spot_id": term("hiding_spot").id, "location_note": "l", "note": "n"}],
            "reason": "fuzz"}


JSON_VALUES = [1e19, int(HUGE_ID), [1], {"id": 1}, "\u0661", "\x00", "x" * 100_000, True,
               "9999-12-31T23:00:00-14:00", "0001-01-01T00:00:00+14:00"]


def walk_api(walk: Walk, world) -> None:
    session_id = world.own.session.id
    for method, url in (("POST", "/api/sessions"), ("PUT", f"/api/sessions/{session_id}")):
        base = api_body(walk.world)
        walk.send(method, url, "valid body", json=base)
        for key in base:
            for value in JSON_VALUES:
                body = dict(base, **{key: value})
                walk.send(method, url, f"{key}={str(value)[:30]!r}", json=body)
        for key in base["hides"][0]:
            for value in JSON_VALUES[:8]:
                body = dict(base, hides=[dict(base["hides"][0], **{key: value})])
                walk.send(method, url, f"hides[0].{key}={str(value)[:30]!r}", json=body)
        walk.send(method, url, "nested 100,000 deep", data="[" * 100_000 + "]" * 100_000,
                  content_type="application/json")
        walk.send(method, url, "a list body", json=[base])


def walk_role(app, role, deep: bool) -> Walk:
    """Every route; `deep` also sends each query name and each form field alone (the others at once only)."""
    world = build_world()
    walk = Walk(app, world, role)
    params = endpoint_params(world)
    rules = sorted(app.url_map.iter_rules(), key=lambda r: r.rule)
    for rule in rules:
        if rule.endpoint.startswith("api."):
            continue
        for method in sorted(rule.methods - {"HEAD", "OPTIONS"}):
            if (rule.endpoint, method) in SKIP:
                continue
            if rule.arguments and rule.endpoint not in params:
                continue
            variants = path_variants(app, rule, params.get(rule.endpoint, {}))
            url = variants[0][0]
            for bad_url, what in variants[1:]:
                walk.send(method, bad_url, what)
            if method == "GET":
                walk_query(walk, url, deep)
            else:
                walk_form(walk, method, url, rule, deep)
            walk.login()  # a POST may have ended or changed the session (a password, an archived agency)
    if deep:
        walk_api(walk, world)
    return walk


def walk_query(walk: Walk, url: str, deep: bool) -> None:
    names = QUERY_IDS + QUERY_DATES + QUERY_OTHER
    for value in EVERY:
        walk.send("GET", url, f"every query name={value[:20]!r}", query_string={n: value for n in names})
    if not deep:
        return
    for name in QUERY_IDS:
        walk.send("GET", url, f"{name}={HUGE_ID}", query_string={name: HUGE_ID})
    for name in QUERY_DATES:
        walk.send("GET", url, f"{name}=9999-12-31", query_string={name: "9999-12-31"})


def walk_form(walk: Walk, method: str, url: str, rule, deep: bool) -> None:
    fields: dict[str, tuple[str, str]] = {}
    if "GET" in rule.methods:
        _, page = walk.send("GET", url, "the form's page")
        reader = FormReader()
        reader.feed(page.decode("utf-8", "replace"))
        fields = reader.fields
    fields.pop("csrf_token", None)
    base = {name: value for name, (kind, value) in fields.items() if value != ""}
    walk.send(method, url, "the page's own values", data=base)
    for value in EVERY:
        walk.send(method, url, f"every field={value[:20]!r}", data={n: value for n in fields} or {"x": value})
    if not deep:
        return
    for name, (kind, _) in fields.items():
        for value in hostile_values(name, kind):
            walk.send(method, url, f"{name}={value[:20]!r}", data=dict(base, **{name: value}))
        if name in base:
            walk.send(method, url, f"without {name}", data={k: v for k, v in base.items() if k != name})


@pytest.mark.parametrize("role", ROLES)
def test_no_route_answers_5xx_to_hostile_input(app, role, capsys):
    started = time.monotonic()
    # Answer as production does: a failure becomes a 500 page to count, not an exception in the test.
    app.config["PROPAGATE_EXCEPTIONS"] = False
    try:
        walk = walk_role(app, role, deep=role in ("admin", "manager"))
    finally:
        app.config["PROPAGATE_EXCEPTIONS"] = None
    with capsys.disabled():
        print(f"\nfuzz {role}: {walk.count} requests, {len(walk.failures)} answered 5xx, "
              f"{time.monotonic() - started:.0f} s")
    assert not walk.failures, f"{len(walk.failures)} of {walk.count} requests answered 5xx:\n" + \
        "\n".join(walk.failures[:40])
