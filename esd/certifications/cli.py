"""`flask esd send-reminders` and `flask esd scheduler`, added to the `esd` group by esd/cli.py."""
from datetime import date

import click
from flask import current_app
from flask.cli import with_appcontext


@click.command("send-reminders")
@with_appcontext
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Run as if it were this day (YYYY-MM-DD); default: each agency's today.")
def send_reminders(today):
    """Run the reminder job once and print what it sent."""
    from .reminders import run
    day: date | None = today.date() if today else None
    outcomes = run(today=day)
    for outcome in outcomes:
        click.echo(outcome.line())
    sent = sum(1 for o in outcomes if o.status == "sent")
    failed = len(outcomes) - sent
    click.echo(f"{sent} sent, {failed} failed" + (" (they are retried at the next run)" if failed else "")
               + ".")


@click.command("scheduler")
@with_appcontext
def scheduler():
    """Run the reminder scheduler in the foreground: one per host, beside gunicorn's workers."""
    from ..scheduler import run_blocking
    run_blocking(current_app._get_current_object())
