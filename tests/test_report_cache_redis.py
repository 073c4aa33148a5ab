"""The report cache on Redis, as the hosts of a scale-out installation share it: the real server
(127.0.0.1:6379, database 15, unless TEST_REDIS_URL names another; `.ci/run` starts it)."""
from __future__ import annotations

import os
from datetime import date

import pytest
import redis

from esd import create_app
from esd.extensions import cache, db
from esd.reports.cache import report
from esd.reports.charts import chart_bytes
from esd.reports.metrics import Filters
from tests.helpers import make_agency, make_dog, make_handler, make_session

REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")
PNG = b"\x89PNG"


@pytest.fixture
def host(database_url):
    """`host()` is one more web host of the installation: the same database, the cache on Redis."""
    apps = []

    def make(redis_url: str = REDIS_URL):
        apps.append(create_app({"TESTING": True, "SECRET_KEY": "test-secret", "SQLALCHEMY_DATABASE_URI": database_url,
                                "CACHE_TYPE": "RedisCache", "CACHE_REDIS_URL": redis_url,
                                "CACHE_KEY_PREFIX": "esd-test:"}))
        return apps[-1]
    yield make
    for app in apps:  # their connections would hold the test database open
        with app.app_context():
            db.engine.dispose()


@pytest.fixture
def server():
    client = redis.Redis.from_url(REDIS_URL)
    client.ping()  # no Redis is a failure, not a skip: the scale-out path must stay tested
    for key in client.scan_iter("esd-test:*"):
        client.delete(key)
    yield client
    for key in client.scan_iter("esd-test:*"):
        client.delete(key)


@pytest.fixture
def agency_filters():
    agency = make_agency(timezone="UTC")
    dog, handler = make_dog(agency), make_handler(agency)
    make_session(dog, handler, hides=[{"outcome": "found", "device": "USB drive", "spot": "Book"}] * 3)
    db.session.commit()
    return agency, dog, handler, Filters(agency_ids=(agency.id,), end=date(2026, 3, 31))


def test_a_chart_one_host_drew_is_served_by_another_until_the_data_change(server, host, agency_filters):
    agency, dog, handler, filters = agency_filters
    first, second = host(), host()
    computed = []

    def device_rates():
        computed.append(1)
        return chart_bytes("device_type", "png", filters)
    with first.app_context():
        png = report(("device rates",), filters, device_rates)
        assert png.startswith(PNG) and len(computed) == 1
    assert any(server.scan_iter("esd-test:*"))  # the figure is in Redis, not in a host's files
    with second.app_context():
        assert report(("device rates",), filters, device_rates) == png
        assert len(computed) == 1  # served, not computed again
        make_session(dog, handler, hides=[{"outcome": "missed", "device": "USB drive", "spot": "Book"}])
        db.session.commit()
    with first.app_context():
        changed = report(("device rates",), filters, device_rates)  # a change is never answered from the cache
        assert changed != png and len(computed) == 2


def test_emptying_the_cache_leaves_other_applications_keys_alone(server, host, agency_filters):
    filters = agency_filters[3]
    server.set("another-app:session", b"kept")
    app = host()
    with app.app_context():
        chart_bytes("hiding_spot", "png", filters)
        assert any(server.scan_iter("esd-test:*"))
        cache.clear()
    assert not any(server.scan_iter("esd-test:*"))
    assert server.get("another-app:session") == b"kept"
    server.delete("another-app:session")


def test_with_redis_down_charts_are_still_drawn_and_served(host, agency_filters):
    filters = agency_filters[3]
    app = host(redis_url="redis://127.0.0.1:1/0")  # nothing listens there
    computed = []

    def heatmap():
        computed.append(1)
        return chart_bytes("heatmap", "png", filters)
    with app.app_context():
        assert report(("heatmap",), filters, heatmap).startswith(PNG)
        assert report(("heatmap",), filters, heatmap).startswith(PNG)
        assert len(computed) == 2  # no cache: computed each time, never an error page
