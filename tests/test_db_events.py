"""Database hooks are installed by the factory, never by importing a module."""
import subprocess
import sys
import textwrap
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_importing_the_package_installs_no_hook_and_the_factory_installs_them_all():
    # A fresh interpreter: this test process has built apps already, so its hooks are in place.
    script = textwrap.dedent("""
        import importlib, pkgutil
        from sqlalchemy import event
        import esd
        for module in pkgutil.walk_packages(esd.__path__, "esd."):
            importlib.import_module(module.name)
        from esd.db_events import HOOKS
        print(sum(event.contains(target, name, fn) for target, name, fn in HOOKS))
        esd.create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})
        print(sum(event.contains(target, name, fn) for target, name, fn in HOOKS), len(HOOKS))
    """)
    result = subprocess.run([sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True,
                            timeout=120, check=True)
    before, after = result.stdout.split("\n")[:2]
    assert before == "0"
    installed, total = after.split()
    assert installed == total


def test_building_a_second_app_does_not_run_a_hook_twice(app, db_session):
    from esd import create_app
    from esd.extensions import db
    from esd.models import AuditEntry
    from tests.helpers import make_agency

    create_app({"SQLALCHEMY_DATABASE_URI": "sqlite://", "TESTING": True, "SECRET_KEY": "test"})
    agency = make_agency()
    db.session.commit()
    entries = db.session.query(AuditEntry).filter_by(entity="agency", entity_id=agency.id, action="create").count()
    assert entries == 1
