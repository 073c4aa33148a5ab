"""Import from the browser: templates to fill, upload, the mapping step, the dry-run preview, confirm.

Managers import into their own agency, administrators into the one they choose; handlers and funders
get 404. The steps read and write through services.py and writer.py (the command line's own), via
uploads.py, which keeps the file between the steps.
"""
from __future__ import annotations

import hashlib
import json
from math import ceil

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, url_for
from flask_login import current_user
from sqlalchemy import select
from werkzeug.utils import secure_filename
from wtforms.fields.choices import SelectChoice

from ..extensions import db
from ..forms import form_status
from ..models import Agency
from ..models.vocab import terms
from ..roles import MANAGE_ROLES
from ..scoping import roles_required
from ..spreadsheets import csv_chunks
from . import uploads
from .forms import LIMIT_MB, ConfirmForm, DiscardForm, UploadForm, mapping_form
from .kinds import KINDS, ORDER
from .readers import Refused
from .templates import TEMPLATE_KINDS, template_csv, template_workbook

bp = Blueprint("imports", __name__)
PER_PAGE = 100  # refused rows per page of the preview; all of them are in its CSV
MAX_VALUES = 150  # unknown values per round of the mapping step; the next round shows those left


def _upload_form(formdata=True) -> UploadForm:
    form = UploadForm() if formdata else UploadForm(formdata=None)
    if current_user.role == "admin":
        form.agency_id.choices = [SelectChoice(a.id, a.name) for a in db.session.scalars(
            select(Agency).where(Agency.archived_at.is_(None)).order_by(Agency.name))]
    else:
        del form.agency_id
    return form


def _index(form: UploadForm, status: int = 200):
    return render_template("imports/index.html", form=form, kinds=[KINDS[k] for k in TEMPLATE_KINDS],
                           limit_mb=LIMIT_MB, limit_bytes=uploads.UPLOAD_LIMIT,
                           waiting=uploads.waiting(current_user._get_current_object())), status


def _owned(token: str) -> uploads.Upload:
    """The user's own upload; 404 for another's, a stale one or a made-up id."""
    upload = uploads.load(token, current_user._get_current_object())
    if upload is None:
        abort(404)
    return upload


@bp.route("/imports")
@roles_required(*MANAGE_ROLES)
def index():
    """Download templates; upload a file to import."""
    return _index(_upload_form())


@bp.route("/imports/upload", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def upload():
    """Keep the file, read it once (the dry run) and go on to the mapping step or the preview."""
    form = _upload_form()
    if not form.validate_on_submit():
        return _index(form, 400)
    agency_id = form.agency_id.data if form.agency_id else current_user.agency_id
    file = form.file.data
    try:
        kept = uploads.store(file.stream, file.filename or "", current_user, agency_id)
    except uploads.UploadRefused as refused:
        form.file.errors.append(str(refused))
        return _index(form, 413 if "larger" in str(refused) else 400)
    try:
        summary = uploads.dry_run(kept)
    except Refused as refused:
        uploads.discard(kept)
        form.file.errors.append(f"Refused as a whole: {refused}")
        return _index(form, 400)
    if uploads.pending(kept, summary):
        return redirect(url_for("imports.mapping", token=kept.token))
    return redirect(url_for("imports.preview", token=kept.token))


# A file of up to UPLOAD_LIMIT: read by esd/__init__.py's request limit before CSRF reads the form.
upload.max_content_length = uploads.REQUEST_LIMIT


@bp.errorhandler(413)
def too_large(error):
    """A body over the limit: the upload page again, the reason beside the file field (not a bare 413)."""
    if request.endpoint != "imports.upload":  # no file is sent elsewhere: the app's own page says it
        return render_template("error.html", code=413, message="The request is too large."), 413
    form = _upload_form(formdata=False)
    form.file.errors = [f"The file is larger than {LIMIT_MB} MB: split it (one file per kind, or a year at "
                        "a time) and import each part."]
    return _index(form, 413)


@bp.route("/imports/templates/<kind>.csv")
@roles_required(*MANAGE_ROLES)
def template(kind):
    """An empty CSV of one kind with the export's columns."""
    if kind not in TEMPLATE_KINDS:
        abort(404)
    return Response(template_csv(kind), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="esd-import-{kind}.csv"'})


@bp.route("/imports/templates/esd-import-template.xlsx")
@roles_required(*MANAGE_ROLES)
def workbook():
    """The XLSX template: a sheet per kind and a sheet explaining each column and its allowed values."""
    return Response(template_workbook(),
                    mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
                    headers={"Content-Disposition": 'attachment; filename="esd-import-template.xlsx"'})


# --------------------------------------------------------------------------- mapping

def _layout(sheets, values) -> str:
    """Which decisions a mapping form answers: a form from an older reading of the file is refused."""
    keys = [s["key"] for s in sheets] + [h.key for s in sheets for h in s["headers"]] + [v.key for v in values]
    return hashlib.sha256(json.dumps(keys).encode()).hexdigest()[:32]


def _term_names(vocab: str) -> list[str]:
    return [t.name for t in terms(vocab)]


def _summary(upload: uploads.Upload) -> dict:
    summary = upload.preview()
    if summary is None:
        try:
            summary = uploads.dry_run(upload)
        except Refused as refused:
            uploads.discard(upload)
            flash(f"{upload.filename} refused as a whole: {refused}", "error")
            abort(redirect(url_for("imports.index")))
    return summary


@bp.route("/imports/<token>/mapping", methods=["GET", "POST"])
@roles_required(*MANAGE_ROLES)
def mapping(token):
    """Match the file's sheets, headers and values to ours; the choices are remembered on import."""
    upload = _owned(token)
    summary = _summary(upload)
    sheets, values = uploads.decisions(upload, summary)
    asked = set(upload.meta.get("asked", []))
    values.sort(key=lambda v: v.key in asked)  # those not yet shown first (the sort keeps the order within)
    more_values = max(0, len(values) - MAX_VALUES)
    values = values[:MAX_VALUES]
    layout = _layout(sheets, values)
    form, keys = mapping_form(sheets, values, _term_names, layout)
    if form.validate_on_submit():
        if form.layout.data != layout:
            flash("The file was matched again in another window: check the choices below.", "warning")
            return redirect(url_for("imports.mapping", token=token))
        chosen = {prefix: {keys[f.name]: f.data for f in form if f.name.startswith(prefix)}
                  for prefix in ("kind_", "column_", "value_")}
        uploads.apply_choices(upload, summary, chosen["kind_"], chosen["column_"], chosen["value_"])
        try:
            summary = uploads.dry_run(upload)
        except Refused as refused:
            uploads.discard(upload)
            flash(f"{upload.filename} refused as a whole: {refused}", "error")
            return redirect(url_for("imports.index"))
        more = uploads.pending(upload, summary)
        if more:
            flash(f"With these columns matched, {len(more)} more choice{'s' if len(more) != 1 else ''} "
                  "came up: see below.", "info")
            return redirect(url_for("imports.mapping", token=token))
        return redirect(url_for("imports.preview", token=token))
    fields = {name: form[name] for name in keys}
    names = {key: name for name, key in keys.items()}
    return render_template("imports/mapping.html", upload=upload, form=form, sheets=sheets, values=values,
                           fields=fields, names=names, more_values=more_values, scope_label=lambda s: uploads.value_scope(s)[0],
                           kinds=KINDS), form_status()


# --------------------------------------------------------------------------- preview and confirm

@bp.route("/imports/<token>")
@roles_required(*MANAGE_ROLES)
def preview(token):
    """The dry run: per kind what would be created, updated and left; every refused row, a page at a time."""
    upload = _owned(token)
    summary = _summary(upload)
    problems = [p for p in summary["problems"] if p[2] is not None]
    pages = max(1, ceil(len(problems) / PER_PAGE))
    page = min(max(request.args.get("page", 1, type=int) or 1, 1), pages)
    confirm_form = ConfirmForm(formdata=None, fingerprint=summary["fingerprint"])
    sheets, values = uploads.decisions(upload, summary)
    return render_template("imports/preview.html", upload=upload, summary=summary, agency=upload.agency,
                           kinds=KINDS, order=[k for k in ORDER if k in summary["counts"]],
                           problems=problems[(page - 1) * PER_PAGE:page * PER_PAGE], page=page, pages=pages,
                           total_problems=len(problems), confirm_form=confirm_form, discard_form=DiscardForm(),
                           has_mapping=bool(sheets or values))


@bp.route("/imports/<token>/refused.csv")
@roles_required(*MANAGE_ROLES)
def refused_csv(token):
    """Every refused row of the preview (and each sheet refused whole) as CSV."""
    upload = _owned(token)
    summary = _summary(upload)
    rows = [["file", "sheet", "row", "column", "reason"], *summary["problems"]]
    stem = secure_filename(upload.filename.rsplit(".", 1)[0])[:60] or "upload"  # a header holds Latin-1 only
    return Response(csv_chunks(rows, bom=True), mimetype="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="refused-rows-{stem}.csv"'})


@bp.route("/imports/<token>/confirm", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def confirm(token):
    """Write everything the preview showed in one transaction, audited as one import event."""
    upload = _owned(token)
    form = ConfirmForm()
    if not form.validate_on_submit():
        flash("Confirm from the preview below.", "warning")
        return redirect(url_for("imports.preview", token=token))
    folder = upload.folder
    claimed = uploads.claim(upload)
    if claimed is None:
        abort(404)  # confirmed (or discarded) by another request meanwhile
    try:
        event, summary = uploads.confirm(claimed, current_user._get_current_object(), form.fingerprint.data)
    except Refused as refused:
        uploads.discard(claimed)
        flash(f"{upload.filename} refused as a whole: {refused}", "error")
        return redirect(url_for("imports.index"))
    except Exception:
        uploads.release(claimed, folder)
        raise
    if event is None:
        uploads.release(claimed, folder)
        flash("Nothing to import: every row matches a record already here, or was refused." if not summary["changes"]
              else "The records changed since this preview (another import or an edit): check the new preview "
                   "and confirm again.", "warning")
        return redirect(url_for("imports.preview", token=token))
    uploads.discard(claimed)
    created = sum(c["create"] for c in summary["counts"].values())
    updated = sum(c["update"] for c in summary["counts"].values())
    flash(f"Imported {upload.filename} into {claimed.agency.name}: {created} records created, {updated} updated"
          + (f", {summary['refused_rows']} rows refused (not imported)" if summary["refused_rows"] else "")
          + f". Audit event #{event.id}.", "success")
    return redirect(url_for("imports.index"))


@bp.route("/imports/<token>/discard", methods=["POST"])
@roles_required(*MANAGE_ROLES)
def discard(token):
    """Throw the uploaded file away; nothing was written."""
    upload = _owned(token)
    if DiscardForm().validate_on_submit():
        uploads.discard(upload)
        flash(f"{upload.filename} discarded; nothing was imported.", "info")
        return redirect(url_for("imports.index"))
    return redirect(url_for("imports.preview", token=token))
