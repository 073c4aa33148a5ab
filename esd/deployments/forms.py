"""Deployment forms: the search itself, its finds and alerts inline, the quick evidence update, the list filter."""
from wtforms import (BooleanField, DateField, FieldList, Form, FormField, HiddenField, IntegerField,
                     SelectField, StringField, TextAreaField, TimeField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..forms import SafeForm, happened, not_before
from ..models.deployments import ALERT_OUTCOMES, EVIDENCE
from ..parsing import optional_int, parse_id

AUTHORITY_LABELS = {"search_warrant": "Search warrant", "probation_parole": "Probation / parole search",
                    "consent": "Consent"}
EVIDENCE_LABELS = {"pending": "Pending (exam not back)", "yes": "Yes, held evidence", "no": "No evidence"}
OUTCOME_LABELS = {"confirmed": "Confirmed: a device was recovered there",
                  "unverified": "Unverified: nothing was recovered",
                  "explained": "Explained: nothing was recovered, for a known reason"}


def one_of_choices(message):
    """Refuse a value that is not among the field's choices, with a message a person understands."""
    def check(form, field):
        if field.data is None:
            return
        if field.data not in {getattr(c, "value", None) if isinstance(c, SelectChoice) else c[0]
                              for c in field.choices}:
            raise ValidationError(message)
    return check


class FindForm(Form):
    """One device found; a row left without a device type and anything else is ignored."""

    id = HiddenField(validators=[Length(max=12)])
    device_type = SelectField("Device type", coerce=optional_int, validate_choice=False,
                              validators=[one_of_choices("Unknown device type: choose one from the list.")])
    hiding_spot = SelectField("Hiding spot", coerce=optional_int, validate_choice=False,
                              validators=[one_of_choices("Unknown hiding spot: choose one from the list.")])
    missed_by_human_search = BooleanField("Missed by the human search")
    evidence = SelectField("Held evidence", choices=[SelectChoice(k, EVIDENCE_LABELS[k]) for k in ("pending", "yes", "no")],
                           default="pending", validate_choice=False, filters=[lambda v: v or "pending"],
                           validators=[one_of_choices("Choose yes, no or pending.")])
    notes = StringField("Note", validators=[Optional(), Length(max=500)])
    remove = BooleanField("Remove this find (entered by mistake)")

    def is_blank(self) -> bool:
        return (self.device_type.data is None and self.hiding_spot.data is None and not self.id.data
                and not self.missed_by_human_search.data and not (self.notes.data or "").strip())

    def validate_device_type(self, field):
        if field.data is None and not self.is_blank():
            raise ValidationError("Choose the device type of this find.")


class AlertForm(Form):
    """One alert the dog gave; a row left without an outcome and anything else is ignored.

    The view sets the find field's choices to this deployment's finds (saved ones by id, rows of this
    form not yet saved as "new-<row>") and `find_problems`, the finds that cannot confirm an alert.
    """

    id = HiddenField(validators=[Length(max=12)])
    hiding_spot = SelectField("Hiding spot", coerce=optional_int, validate_choice=False,
                              validators=[one_of_choices("Unknown hiding spot: choose one from the list.")])
    location_note = StringField("Where", validators=[Optional(), Length(max=200)])
    outcome = SelectField("Outcome", choices=[SelectChoice("", "Choose…")] + [
        SelectChoice(k, OUTCOME_LABELS[k]) for k in ALERT_OUTCOMES], validate_choice=False,
        filters=[lambda v: v or None],
        validators=[one_of_choices("Choose confirmed, unverified or explained.")])
    find = SelectField("Device recovered there", validate_choice=False, filters=[lambda v: v or None],
                       validators=[Length(max=24)])
    # No Optional(): it would stop the chain before validate_explanation on an empty explanation.
    explanation = StringField("Why nothing was recovered", validators=[Length(max=1000)])
    remove = BooleanField("Remove this alert (entered by mistake)")

    find_problems: dict = {}

    def is_blank(self) -> bool:
        return (self.outcome.data is None and self.hiding_spot.data is None and not self.id.data
                and not self.find.data and not (self.location_note.data or "").strip()
                and not (self.explanation.data or "").strip())

    def validate_outcome(self, field):
        if field.data is None and not self.is_blank() and not self.remove.data:
            raise ValidationError("Choose the outcome of this alert.")

    def validate_find(self, field):
        if self.outcome.data != "confirmed" or self.remove.data:
            return
        if field.data is None:
            raise ValidationError("A confirmed alert names the find recovered there: choose it "
                                  "(add the find above first).")
        if field.data in self.find_problems:
            raise ValidationError(self.find_problems[field.data])
        if field.data not in {getattr(c, "value", None) if isinstance(c, SelectChoice) else c[0]
                              for c in field.choices}:
            raise ValidationError("That find is not one of this deployment's finds: choose one listed.")

    def validate_explanation(self, field):
        if self.outcome.data == "explained" and not self.remove.data and not (field.data or "").strip():
            raise ValidationError("Say why nothing was recovered (for example: the device was removed "
                                  "before the search, residual odour).")


class DeploymentForm(SafeForm):
    dog = SelectField("Dog", coerce=optional_int, validate_choice=False,
                      validators=[DataRequired("Choose the dog."),
                                  one_of_choices("Choose one of your agency's dogs.")])
    handler = SelectField("Handler", coerce=optional_int, validate_choice=False,
                          validators=[DataRequired("Choose the handler."),
                                      one_of_choices("Choose one of your agency's handlers.")])
    day = DateField("Date", validators=[InputRequired("Enter the date of the search."), happened])
    time = TimeField("Start time", validators=[InputRequired("Enter the time the search started.")])
    requesting_agency = StringField("Requesting agency", validators=[Optional(), Length(max=160)])
    case_number = StringField("Case number", validators=[Optional(), Length(max=80)])
    legal_authority = SelectField("Legal authority", choices=[SelectChoice(k, v) for k, v in AUTHORITY_LABELS.items()],
                                  validate_choice=False,
                                  validators=[InputRequired("Choose the legal authority from the list."),
                                              one_of_choices("Choose the legal authority from the list.")])
    location_type = SelectField("Location type", coerce=optional_int, validate_choice=False,
                                validators=[one_of_choices("Unknown location type: choose one from the list.")])
    duration_minutes = IntegerField("Duration (minutes)", validators=[
        Optional(), NumberRange(1, 1440, "A search lasts between 1 and 1440 minutes.")])
    notes = TextAreaField("Outcome notes", validators=[Optional(), Length(max=5000)])
    finds = FieldList(FormField(FindForm), min_entries=0, max_entries=50)
    alerts = FieldList(FormField(AlertForm), min_entries=0, max_entries=50)

    def validate_handler(self, field):
        agency_of = getattr(self, "agency_of", {})
        if self.dog.data and field.data and agency_of.get(("dog", self.dog.data)) != agency_of.get(
                ("handler", field.data)):
            raise ValidationError("The handler must belong to the same agency as the dog.")

    def validate_alerts(self, field):
        """One find confirms one alert: a second alert naming it is refused beside its find."""
        posted = {parse_id(entry.form.id.data) for entry in field.entries if entry.form.id.data}
        # A saved alert the form left out keeps its find (the page posts every alert; a crafted post may not).
        seen = {find for alert_id, find in getattr(self, "saved_alert_finds", {}).items() if alert_id not in posted}
        duplicate = False
        for entry in field.entries:
            alert = entry.form
            if alert.outcome.data != "confirmed" or alert.remove.data or not alert.find.data:
                continue
            if alert.find.data in seen:
                alert.find.errors.append("Another alert already names this find: one find confirms one alert.")
                duplicate = True
            seen.add(alert.find.data)
        if duplicate:
            raise ValidationError("Two alerts name the same find.")


class EvidenceForm(SafeForm):
    """The forensic exam came back: set one find's evidence result."""

    evidence = SelectField("Held evidence", choices=[SelectChoice(k, EVIDENCE_LABELS[k]) for k in EVIDENCE],
                           validate_choice=False,
                           validators=[InputRequired("Choose yes, no or pending."),
                                       one_of_choices("Choose yes, no or pending.")])


class ArchiveForm(SafeForm):
    """A POST with CSRF and nothing else."""


class DeploymentFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    clamp_dates = True
    dog = SelectField("Dog", coerce=optional_int, validate_choice=False, validators=[Optional()])
    handler = SelectField("Handler", coerce=optional_int, validate_choice=False, validators=[Optional()])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional(), not_before("start")])
    q = StringField("Case number or requesting agency", validators=[Optional(), Length(max=80)])
    with_finds = BooleanField("Only with finds")
    archived = BooleanField("Show archived")
