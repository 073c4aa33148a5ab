"""`flask esd seed-demo`, added to the `esd` group by esd/cli.py."""
import click
from flask.cli import with_appcontext

from . import database_counts, demo_logins, seed_demo
from ..dates import local_day
from .catalogue import DEMO_PASSWORD, STATES


def _echo_logins(logins) -> None:
    if not logins:
        click.echo("This database has no demo accounts.")
        return
    click.echo(f"\nDemo logins (every account's password: {DEMO_PASSWORD!r}):")
    width = max(len(email) for _, email in logins)
    for role, email in logins:
        click.echo(f"  {email.ljust(width)}  {role}")


@click.command("seed-demo")
@with_appcontext
@click.option("--today", type=click.DateTime(formats=["%Y-%m-%d"]), default=None,
              help="Date the demo is built around (YYYY-MM-DD); default: today.")
@click.option("--seed", type=int, default=2026, show_default=True,
              help="Random seed: the same seed and date give the same data.")
@click.option("--hides", type=click.IntRange(min=1), default=None,
              help="Build the national scale data set instead (62 task forces, ~400 dogs, five "
                   "years) with this many training hides.")
@click.option("--if-empty", is_flag=True,
              help="On a database that already has data, only print the demo logins (for `make run`).")
def seed_demo_command(today, seed, hides, if_empty):
    """Fill an empty database with demo agencies, dogs, training, deployments and certifications."""
    counts = database_counts()
    if any(counts.values()):
        if if_empty:
            click.echo("The database already has data; no demo data added.")
            _echo_logins(demo_logins())
            return
        held = ", ".join(f"{n} {name}" for name, n in counts.items())
        raise click.ClickException(
            f"The database already has data ({held}); seed-demo only fills an empty database. "
            "To start fresh, point DATABASE_URL at a new database (or move instance/esd.sqlite3 "
            "away), run `flask db upgrade`, then `flask esd seed-demo`.")
    # The day begun in every demo zone: no agency's records run into a day it has not reached.
    day = today.date() if today else min(local_day(tz) for _, tz, *_ in STATES)
    summary = seed_demo(day, seed=seed, hides=hides,
                        progress=lambda length, label: click.progressbar(length=length, label=label))
    click.echo(f"Seeded {summary.agencies} agencies, {summary.dogs} dogs, {summary.handlers} handlers, "
               f"{summary.users} users, {summary.sessions} training sessions with {summary.hides} hides "
               f"and {summary.false_alerts} false alerts, {summary.deployments} deployments with "
               f"{summary.finds} finds, {summary.certifications} certifications (as of {day}).")
    _echo_logins(demo_logins())
