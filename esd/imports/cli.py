"""`flask esd export` and `flask esd import`: an agency's records to a ZIP, and a file into an agency."""
from __future__ import annotations

import os
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import click
from flask.cli import with_appcontext
from sqlalchemy import select

from .. import planner_statistics
from ..audit import record_event
from ..extensions import db
from ..models import Agency
from .readers import Refused, read_upload
from .services import file_sha256, plan
from .writer import apply


def _agency(name: str, time_zone: str | None, create: bool) -> Agency | None:
    agency = db.session.scalar(select(Agency).where(Agency.name == name))
    if agency is None and create:
        if time_zone:
            try:
                ZoneInfo(time_zone)
            except (ZoneInfoNotFoundError, ValueError):
                raise click.BadParameter(f"unknown time zone {time_zone!r} (e.g. America/Chicago)",
                                         param_hint="--time-zone") from None
        agency = Agency(name=name, timezone=time_zone or "America/New_York")
    return agency


@click.command("export")
@click.option("--agency", "agency_name", required=True, help="The agency whose records are exported.")
@click.argument("file", type=click.Path(dir_okay=False, writable=True))
@with_appcontext
def export_command(agency_name, file):
    """Write every record of one agency to a ZIP (the one Exports gives), for an import elsewhere."""
    from ..exports.services import DateRange, zip_bytes
    agency = _agency(agency_name, None, create=False)
    if agency is None:
        raise click.BadParameter(f"no agency named {agency_name!r}", param_hint="--agency")
    data = zip_bytes([agency.id], DateRange())
    with open(file, "wb") as out:
        out.write(data)
    record_event("export", "all", agency_id=agency.id, changes={"file": os.path.basename(file), "by": "command line"})
    db.session.commit()
    click.echo(f"Wrote {file} ({len(data) // 1024} kB): every record of {agency.name}.")


@click.command("import")
@click.argument("file", type=click.Path(exists=True, dir_okay=False))
@click.option("--agency", "agency_name", required=True, help="The agency imported into (created when missing).")
@click.option("--dry-run", is_flag=True, help="Only report what would be created, updated and refused.")
@click.option("--time-zone", default=None, help="The time zone of an agency created by this import.")
@with_appcontext
def import_command(file, agency_name, dry_run, time_zone):
    """Import a CSV, an XLSX workbook or an Exports ZIP into an agency; exit 1 when rows were refused."""
    agency = _agency(agency_name, time_zone, create=True)
    name = os.path.basename(file)
    try:
        sheets = read_upload(file, name)
        with click.progressbar(length=os.path.getsize(file), label="Reading rows") as bar:
            the_plan = plan(sheets, agency, progress=lambda n: bar.update(n * 60))
    except Refused as refused:
        db.session.rollback()
        raise click.ClickException(f"{name} refused as a whole: {refused}")
    for sp in the_plan.sheets:
        read_as = f" ({sp.sheet.encoding})" if sp.sheet.encoding else ""
        click.echo(f"  {sp.sheet.file} [{sp.sheet.name}]{read_as}: "
                   + (f"{sp.kind}, {sp.rows} rows" + (f", {sp.empty_rows} empty rows skipped" if sp.empty_rows else "")
                      if sp.kind else "not recognised: not imported"))
    for kind, counts in the_plan.counts().items():
        click.echo(f"{kind:>15}: {counts['create']} new, {counts['update']} changed, {counts['same']} unchanged, "
                   f"{counts['refused']} refused")
    for problem in the_plan.problems[:200]:
        click.echo(f"  refused: {problem}", err=True)
    if len(the_plan.problems) > 200:
        click.echo(f"  … and {len(the_plan.problems) - 200} more.", err=True)
    if the_plan.unmatched_users:
        click.echo(f"No account here for {len(the_plan.unmatched_users)} e-mail address(es) named as creator or "
                   "signer; those records are imported without it.")
    if dry_run:
        db.session.rollback()
        click.echo("Dry run: nothing was written.")
    else:
        total = sum(len(v) for v in the_plan.records.values())
        with click.progressbar(length=total, label="Writing records") as bar:
            event = apply(the_plan, None, name, file_sha256(file), os.path.getsize(file), progress=bar.update)
        db.session.commit()
        planner_statistics.refresh()  # a bulk load: the planner's statistics are out of date
        click.echo(f"Imported into {agency.name}: audit event #{event.id}.")
    if the_plan.problems:
        raise SystemExit(1)
