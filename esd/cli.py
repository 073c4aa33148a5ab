"""`flask esd …` commands for operators; the areas' own commands are added here, by `register_cli`."""
import os

import click
from flask import Flask
from flask.cli import AppGroup
from sqlalchemy import select

from .extensions import db
from .roles import AGENCY_ROLES, ROLES

esd_cli = AppGroup("esd", help="ESD K9 Tracker commands.")


@esd_cli.command("create-user")
@click.option("--email", prompt=True)
@click.option("--name", prompt=True)
@click.option("--role", type=click.Choice(ROLES), default="admin",
              show_default=True)
@click.option("--agency", "agency_name", default=None, help="Agency name (managers and handlers).")
@click.password_option()
def create_user(email, name, role, agency_name, password):
    """Create a user account (the first administrator, typically)."""
    from .auth.passwords import hash_password, password_problem
    from .models import Agency, User
    problem = password_problem(password, email)
    if problem:
        raise click.BadParameter(problem, param_hint="password")
    email = email.strip().lower()
    if db.session.scalar(select(User).where(User.email == email)):
        raise click.BadParameter(f"{email} already has an account.", param_hint="email")
    agency = None
    if role in AGENCY_ROLES:
        if not agency_name:
            raise click.BadParameter("managers and handlers need --agency", param_hint="agency")
        agency = db.session.scalar(select(Agency).where(Agency.name == agency_name))
        if agency is None:
            raise click.BadParameter(f"no agency named {agency_name!r}", param_hint="agency")
    db.session.info["actor_id"] = None
    db.session.add(User(email=email, name=name, role=role, agency=agency,
                        password_hash=hash_password(password)))
    db.session.commit()
    click.echo(f"Created {role} {email}.")


@esd_cli.command("seed-vocab")
def seed_vocab():
    """Add the default vocabularies (device types, hiding spots …) that are missing."""
    from .models import seed_vocabularies
    added = seed_vocabularies()
    db.session.commit()
    click.echo(f"Added {added} vocabulary terms.")


def register_cli(app: Flask) -> None:
    """Add the `esd` group, with the areas' commands, to the app's `flask` command."""
    from .backup_cli import backup_command, restore_command
    from .certifications.cli import scheduler, send_reminders
    from .demo.cli import seed_demo_command
    from .imports.cli import export_command, import_command
    from .verification.cli import audit_cli
    for command in (seed_demo_command, send_reminders, scheduler, backup_command, restore_command, audit_cli,
                    export_command, import_command):
        esd_cli.add_command(command)
    app.cli.add_command(esd_cli)


@esd_cli.command("run-dev")
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=5000, show_default=True)
def run_dev(host, port):
    """Serve the app for development, with the reminder scheduler beside it."""
    from flask import current_app

    from .config import development_mail_backend
    app = current_app._get_current_object()
    backend = development_mail_backend(os.environ)
    if backend:
        app.config["MAIL_BACKEND"] = backend
        click.echo("No MAIL_SERVER set: e-mails are printed here instead of sent (see README, E-mail).")
    from .scheduler import start_background
    start_background(app)
    click.echo(f"ESD K9 Tracker on http://{host}:{port}/ (Ctrl+C to stop)")
    # app.run() refuses to serve from inside a `flask` command (FLASK_RUN_FROM_CLI); serve directly.
    from werkzeug.serving import run_simple
    run_simple(host, port, app, use_reloader=False, use_debugger=False, threaded=True)


@esd_cli.command("rollups")
@click.option("--rebuild", "do_rebuild", is_flag=True, help="Recompute every rollup from the raw rows.")
@click.option("--verify", "do_verify", is_flag=True,
              help="Recompute the rollups and print every difference from the stored ones (exit 1 when any).")
def rollups_command(do_rebuild, do_verify):
    """The monthly rollups behind the charts and dashboards: rebuild or verify them."""
    from .models import Agency
    from .rollups import differences, rebuild
    if not do_rebuild and not do_verify:
        raise click.UsageError("say --rebuild or --verify (or both: rebuild, then verify)")
    if do_rebuild:
        agencies = db.session.scalar(select(db.func.count()).select_from(Agency))
        with click.progressbar(length=agencies, label="Rebuilding rollups (agencies)") as bar:
            counts = rebuild(db.session.connection(), progress=bar.update)
        db.session.commit()
        # A rebuild can change figures without any record changing: forget every cached one.
        from .reports import cache as report_cache
        report_cache.clear()
        click.echo("Rebuilt " + ", ".join(f"{rows} {name}" for name, rows in counts.items()) + " rows.")
    if do_verify:
        lines = differences(db.session.connection())
        db.session.rollback()
        for line in lines:
            click.echo(line)
        if lines:
            click.echo(f"{len(lines)} rollup rows differ from the raw rows; "
                       "`flask esd rollups --rebuild` recomputes them.", err=True)
            raise SystemExit(1)
        click.echo("The rollups agree with the raw rows.")
