"""`flask esd backup DEST` and `flask esd restore ARCHIVE`, added to the `esd` group by esd/cli.py."""
from __future__ import annotations

from pathlib import Path

import click
from flask import current_app
from flask.cli import with_appcontext

from .backup import BackupError, Step, write_backup
from .extensions import db


class Bars:
    """One click progress bar per long step, each finished when the next one begins."""

    def __init__(self):
        self.bar = None

    def __call__(self, step: Step):
        self.close()
        self.bar = click.progressbar(length=step.length, label=step.label)
        self.bar.__enter__()
        return self.bar.update

    def close(self):
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


@click.command("backup")
@with_appcontext
@click.argument("destination", type=click.Path(path_type=Path))
def backup_command(destination: Path):
    """Write one archive (database, uploads, manifest) to DESTINATION, a file or a folder."""
    bars = Bars()
    try:
        path = write_backup(db.engine, Path(current_app.config["UPLOAD_FOLDER"]), destination, progress=bars)
    except BackupError as error:
        raise click.ClickException(str(error)) from None
    finally:
        bars.close()
    click.echo(f"Backup written: {path} ({path.stat().st_size:,} bytes).")


def restored_problems(manifest: dict) -> list[str]:
    """Check the restored database's audit log and rollups; empty the report cache. The problems found."""
    from .audit_chain import verify
    from .reports import cache as report_cache
    from .restore import check_audit_head
    from .rollups import differences
    problems = []
    with db.engine.connect() as connection:
        problem = check_audit_head(connection, manifest)
        if problem:
            problems.append(problem)
        # The whole chain, not only its last entry: a backup of an altered log restores an altered log.
        chain = verify(connection)
        if not chain.ok:
            problems.append(f"The audit chain is broken: {chain.problem}")
        lines = differences(connection)
        if lines:
            problems.append(f"{len(lines)} rollup rows differ from the raw rows (first: {lines[0]}); "
                            "`flask esd rollups --rebuild` recomputes them.")
    report_cache.clear()  # figures cached for whatever database was here before must not be served
    return problems


@click.command("restore")
@with_appcontext
@click.argument("archive", type=click.Path(path_type=Path, dir_okay=False))
def restore_command(archive: Path):
    """Restore ARCHIVE into this empty installation: check it, restore, verify the audit log and rollups."""
    from .restore import restore
    db.session.remove()
    bars = Bars()
    try:
        manifest = restore(archive, db.engine, Path(current_app.config["UPLOAD_FOLDER"]), bars)
    except BackupError as error:
        bars.close()
        click.echo(f"Refused: {error}", err=True)
        raise SystemExit(2)
    finally:
        bars.close()
    click.echo(f"Restored the backup of {manifest['created_at']} ({len(manifest['files'])} files).")
    problems = restored_problems(manifest)
    for problem in problems:
        click.echo(f"Check failed: {problem}", err=True)
    if problems:
        raise SystemExit(1)
    click.echo("The audit chain verifies and ends where the backup's did; the rollups agree with the raw rows; "
               "the report cache is empty.")
