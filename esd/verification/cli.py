"""`flask esd audit verify`: walk the audit chain and say whether it is intact."""
import sys

import click
from sqlalchemy import func, select

from ..extensions import db


@click.group("audit")
def audit_cli():
    """The audit log's hash chain."""


@audit_cli.command("verify")
def verify_command():
    """Walk the audit chain: exit 0 with the count and head hash, or 1 naming the first wrong entry."""
    from ..audit_chain import verify
    from ..models import AuditEntry
    connection = db.session.connection()
    total = connection.execute(select(func.count()).select_from(AuditEntry)).scalar()
    with click.progressbar(length=total, label="Verifying the audit chain", file=sys.stderr) as bar:
        result = verify(connection, progress=bar.update)
    db.session.rollback()
    if not result.ok:
        click.echo(f"The audit chain is broken at entry #{result.entry_id}: {result.problem}.", err=True)
        raise SystemExit(1)
    click.echo(f"The audit chain verifies: {result.count} entries, head {result.head}.")


@audit_cli.command("checkpoint")
def checkpoint_command():
    """E-mail today's audit head to each agency's managers (the scheduler does it daily)."""
    from .checkpoint import send_checkpoints
    for line in send_checkpoints() or ["No checkpoint due (sent already today, or no managers)."]:
        click.echo(line)
