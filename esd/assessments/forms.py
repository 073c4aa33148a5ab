"""Forms of planned sessions and standards: the plan with its areas, closing, a standard's limits."""
from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from wtforms import (BooleanField, DateField, DateTimeLocalField, FieldList, Form, FormField, IntegerField,
                     SelectField, StringField, TextAreaField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, InputRequired, Length, NumberRange, Optional, ValidationError

from ..extensions import db
from ..forms import SafeForm, named_record, sane_date
from ..models import AssessmentStandard, Dog, Handler, User, VocabularyTerm
from ..models.assessments import BLINDNESS, BLINDNESS_LABELS, KIND_LABELS, KINDS
from ..models.training import CONCEALMENTS, HEIGHTS, MAX_DURATION_MINUTES, PURPOSES
from ..parsing import optional_int
from ..roles import is_trainer
from ..training.services import PURPOSE_LABELS
from .services import MAX_AREAS, MAX_REASON

BLANK_ROWS = 4  # empty area rows offered below the filled ones


def no_nul(form, field):
    if isinstance(field.data, str) and "\x00" in field.data:
        raise ValidationError("Remove the invisible control character (NUL).")


def _terms(kind: str, keep: set[int] | None = None) -> list[SelectChoice]:
    rows = db.session.scalars(select(VocabularyTerm).where(VocabularyTerm.kind == kind)
                              .order_by(VocabularyTerm.position, VocabularyTerm.name))
    return [SelectChoice(t.id, t.name) for t in rows if t.active or t.id in (keep or set())]


def _term_ok(field, kind: str, keep: set[int]) -> None:
    if field.data is None:
        return
    term = named_record(VocabularyTerm, field.data)
    if term is None or term.kind != kind or (not term.active and term.id not in keep):
        raise ValidationError("Choose one from the list.")


class AreaForm(Form):
    """One area: its label (what the handler sees), and what is placed there (nothing: a negative area)."""

    label = StringField("Area (what the handler is told)", validators=[Optional(), Length(max=120), no_nul])
    environment_id = SelectField("Environment", coerce=optional_int, validate_choice=False, validators=[Optional()])
    device_type_id = SelectField("Device type (none: a negative area)", coerce=optional_int, validate_choice=False,
                                 validators=[Optional()])
    hiding_spot_id = SelectField("Hiding spot", coerce=optional_int, validate_choice=False, validators=[Optional()])
    height = SelectField("Height", choices=[SelectChoice("", "—")] + [SelectChoice(h, h.title()) for h in HEIGHTS], validate_choice=False)
    concealment = SelectField("Concealment", choices=[SelectChoice("", "—")] + [SelectChoice(c, c.title()) for c in CONCEALMENTS],
                              validate_choice=False)
    aid = StringField("Aid (which training aid)", validators=[Optional(), Length(max=120), no_nul])
    placed_by = StringField("Placed by", validators=[Optional(), Length(max=120), no_nul])
    placed_at = DateTimeLocalField("Placed at", format=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M"], validators=[Optional()])

    @property
    def is_blank(self) -> bool:
        return not (self.label.data or self.device_type_id.data or self.hiding_spot_id.data or self.aid.data)


class PlanForm(SafeForm):
    """A planned session (or an assessment) with its areas."""

    dog_id = SelectField("Dog", coerce=optional_int, validate_choice=False, validators=[DataRequired("Choose the dog.")])
    handler_id = SelectField("Handler", coerce=optional_int, validate_choice=False,
                             validators=[DataRequired("Choose the handler who will work the dog.")])
    planned_on = DateField("Date", validators=[DataRequired("Enter the date (YYYY-MM-DD)."), sane_date])
    location = StringField("Location", validators=[Optional(), Length(max=200), no_nul])
    environment_id = SelectField("Environment", coerce=optional_int, validate_choice=False, validators=[Optional()])
    purpose = SelectField("Purpose", choices=[SelectChoice(p, PURPOSE_LABELS[p]) for p in PURPOSES], default="maintenance",
                          validate_choice=False)
    blindness = SelectField("Blindness", choices=[SelectChoice(b, BLINDNESS_LABELS[b]) for b in BLINDNESS],
                            default="double_blind", validate_choice=False)
    placed_by = StringField("Aids placed by", validators=[Optional(), Length(max=120), no_nul])
    # No Optional(): its inline check runs on an empty value too (a double-blind session needs an observer).
    observer_id = SelectField("Observer (records the outcomes)", coerce=optional_int, validate_choice=False)
    knew = StringField("Who else knew where the aids are", validators=[Optional(), Length(max=200), no_nul])
    kind = SelectField("Kind", choices=[SelectChoice(k, KIND_LABELS[k]) for k in KINDS], default="training", validate_choice=False)
    evaluator = StringField("Evaluator", validators=[Optional(), Length(max=120), no_nul])
    standard_id = SelectField("Standard it is judged against", coerce=optional_int, validate_choice=False)
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000), no_nul])
    areas = FieldList(FormField(AreaForm), min_entries=1, max_entries=MAX_AREAS + BLANK_ROWS)
    reason = TextAreaField("Reason for changing the plan after the start", validators=[Optional(), Length(max=MAX_REASON), no_nul])

    def __init__(self, *args, user: User, plan=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.plan = user, plan
        dogs = select(Dog).where(Dog.archived_at.is_(None), Dog.status != "retired").order_by(Dog.name)
        handlers = select(Handler).where(Handler.archived_at.is_(None)).order_by(Handler.name)
        users = select(User).where(User.active.is_(True), User.role.in_(("manager", "handler"))).order_by(User.name)
        standards = select(AssessmentStandard).where(AssessmentStandard.archived_at.is_(None)).order_by(
            AssessmentStandard.name)
        if user.role != "admin":
            dogs = dogs.where(Dog.agency_id == user.agency_id)
            handlers = handlers.where(Handler.agency_id == user.agency_id)
            users = users.where(User.agency_id == user.agency_id)
            standards = standards.where(AssessmentStandard.agency_id == user.agency_id)
        admin = user.role == "admin"
        self.dog_id.choices = [SelectChoice("", "Choose …")] + [
            SelectChoice(d.id, d.name + (f" — {d.agency.name}" if admin else "")) for d in db.session.scalars(dogs)]
        self.handler_id.choices = [SelectChoice("", "Choose …")] + [
            SelectChoice(h.id, h.name) for h in db.session.scalars(handlers)]
        self.observer_id.choices = [SelectChoice("", "Nobody named")] + [
            SelectChoice(u.id, u.name) for u in db.session.scalars(users)]
        self.standard_id.choices = [SelectChoice("", "None (a training session)")] + [
            SelectChoice(s.id, f"{s.name} ({s.certifying_body.name})") for s in db.session.scalars(standards)]
        keep = set()
        if plan is not None:
            keep = ({plan.environment_id} | {a.device_type_id for a in plan.areas}
                    | {a.hiding_spot_id for a in plan.areas} | {a.environment_id for a in plan.areas})
        self.keep = keep
        self.environment_id.choices = [SelectChoice("", "—")] + _terms("environment", keep)
        self._area_choices()

    def pad(self, rows: int = BLANK_ROWS) -> None:
        """Offer empty rows for more areas (a GET shows them; blank rows are ignored on saving)."""
        for _ in range(min(rows, self.areas.max_entries - len(self.areas.entries))):
            self.areas.append_entry()
        self._area_choices()

    def _area_choices(self):
        environments = _terms("environment", self.keep)
        devices, spots = _terms("device_type", self.keep), _terms("hiding_spot", self.keep)
        for entry in self.areas.entries:
            entry.form.environment_id.choices = [SelectChoice("", "The session's")] + environments
            entry.form.device_type_id.choices = [SelectChoice("", "Nothing (negative area)")] + devices
            entry.form.hiding_spot_id.choices = [SelectChoice("", "—")] + spots

    def chosen_dog(self):
        """The dog the form names, or None."""
        return named_record(Dog, self.dog_id.data)

    def validate_dog_id(self, field):
        dog = self.chosen_dog()
        if dog is None or dog.archived_at is not None or not is_trainer(self.user, dog.agency_id):
            raise ValidationError("This dog is not one of your agency's dogs: choose one from the list.")

    def validate_handler_id(self, field):
        handler = named_record(Handler, field.data)
        dog = self.chosen_dog()
        if handler is None or handler.archived_at is not None or (dog and handler.agency_id != dog.agency_id) \
                or not is_trainer(self.user, handler.agency_id):
            raise ValidationError("Choose a handler of the dog's agency.")
        if handler.user_id is not None and handler.user_id == self.user.id:
            # The seal hides a plan from its handler: the trainer who planned it could not see it again.
            raise ValidationError("You cannot plan a session in which you are the handler: "
                                  "another trainer plans it, so that you do not know where the aids are.")

    def validate_observer_id(self, field):
        if field.data is None:
            if self.blindness.data == "double_blind":
                raise ValidationError("A double-blind session names its observer: nobody present knows the plan.")
            return
        observer = named_record(User, field.data)
        dog = self.chosen_dog()
        if observer is None or not observer.active or (dog and observer.agency_id != dog.agency_id):
            raise ValidationError("Choose a user of the dog's agency.")
        trainer_id = self.plan.trainer_id if self.plan is not None else self.user.id
        if self.blindness.data == "double_blind" and observer.id == trainer_id:
            raise ValidationError("In a double-blind session the observer cannot be the trainer, who knows the plan.")

    def validate_environment_id(self, field):
        _term_ok(field, "environment", self.keep)

    def validate_purpose(self, field):
        if field.data not in PURPOSES:
            raise ValidationError("Choose the purpose from the list.")

    def validate_blindness(self, field):
        if field.data not in BLINDNESS:
            raise ValidationError("Choose known, single-blind or double-blind.")

    def validate_kind(self, field):
        if field.data not in KINDS:
            raise ValidationError("Choose training, proficiency or certification.")

    def validate_standard_id(self, field):
        if field.data is None:
            if self.kind.data in ("proficiency", "certification"):
                raise ValidationError("An assessment must name the standard it is judged against; "
                                      "an agency manager sets standards up under Standards.")
            return
        standard = named_record(AssessmentStandard, field.data)
        dog = self.chosen_dog()
        if standard is None or standard.archived_at is not None or (dog and standard.agency_id != dog.agency_id):
            raise ValidationError("Choose a standard of the dog's agency.")
        if self.kind.data == "training":
            raise ValidationError("A training session is judged by no standard: choose proficiency or certification.")

    def validate_areas(self, field):
        filled = [entry.form for entry in field.entries if not entry.form.is_blank]
        if not filled:
            raise ValidationError("Plan at least one area.")
        if len(filled) > MAX_AREAS:
            raise ValidationError(f"At most {MAX_AREAS} areas.")
        ok = True
        for area in filled:
            problems = []
            if not area.label.data:
                problems.append((area.label, "Name the area the handler will search."))
            if bool(area.device_type_id.data) != bool(area.hiding_spot_id.data):
                problems.append((area.hiding_spot_id if area.device_type_id.data else area.device_type_id,
                                 "A hide has both a device type and a hiding spot; a negative area neither."))
            for sub, kind in ((area.environment_id, "environment"), (area.device_type_id, "device_type"),
                              (area.hiding_spot_id, "hiding_spot")):
                try:
                    _term_ok(sub, kind, self.keep)
                except ValidationError as error:
                    problems.append((sub, str(error)))
            if area.height.data and area.height.data not in HEIGHTS:
                problems.append((area.height, "Choose a height from the list."))
            if area.concealment.data and area.concealment.data not in CONCEALMENTS:
                problems.append((area.concealment, "Choose a concealment from the list."))
            if not area.device_type_id.data and (area.aid.data or area.height.data or area.concealment.data):
                problems.append((area.aid, "A negative area has nothing placed: clear the aid, height and concealment."))
            if area.placed_at.data is not None and self.planned_on.data is not None and not (
                    self.planned_on.data - timedelta(days=7) <= area.placed_at.data.date()
                    <= self.planned_on.data + timedelta(days=1)):
                problems.append((area.placed_at, "Placed within the week before the session."))
            for sub, message in problems:
                sub.errors = list(sub.errors) + [message]
                ok = False
        labels = [a.label.data.strip().lower() for a in filled if a.label.data]
        if len(labels) != len(set(labels)):
            raise ValidationError("Each area needs its own name (two areas have the same).")
        if not ok:
            raise ValidationError("Correct the areas marked below.")

    def plan_values(self) -> dict:
        return {"dog_id": self.dog_id.data, "handler_id": self.handler_id.data, "planned_on": self.planned_on.data,
                "location": self.location.data or None, "environment_id": self.environment_id.data,
                "purpose": self.purpose.data, "blindness": self.blindness.data,
                "placed_by": self.placed_by.data or None, "observer_id": self.observer_id.data,
                "knew": self.knew.data or None, "kind": self.kind.data, "evaluator": self.evaluator.data or None,
                "standard_id": self.standard_id.data, "notes": self.notes.data or None}

    def area_values(self, tz) -> list[dict]:
        values = []
        for entry in self.areas.entries:
            area = entry.form
            if area.is_blank:
                continue
            negative = not area.device_type_id.data
            placed_at = area.placed_at.data.replace(tzinfo=tz) if area.placed_at.data else None
            values.append({"label": area.label.data.strip(), "environment_id": area.environment_id.data,
                           "device_type_id": area.device_type_id.data, "hiding_spot_id": area.hiding_spot_id.data,
                           "height": None if negative else area.height.data or None,
                           "concealment": None if negative else area.concealment.data or None,
                           "aid": None if negative else area.aid.data or None,
                           "placed_by": area.placed_by.data or None, "placed_at": placed_at})
        return values


class CloseForm(SafeForm):
    duration_minutes = IntegerField("Duration (minutes)", validators=[
        InputRequired(f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes."),
        NumberRange(1, MAX_DURATION_MINUTES, message=f"Enter a duration from 1 to {MAX_DURATION_MINUTES} minutes.")])


class StartForm(SafeForm):
    """Starting the session at the site (a button)."""


class StandardForm(SafeForm):
    """What an agency requires of an assessment by one certifying body."""

    agency_id = SelectField("Agency", coerce=optional_int, validate_choice=False, validators=[Optional()])
    certifying_body_id = SelectField("Certifying body", coerce=optional_int, validate_choice=False,
                                     validators=[DataRequired("Choose the certifying body.")])
    name = StringField("Name", validators=[DataRequired("Name the standard (e.g. NNDDA ESD annual)."),
                                           Length(max=120), no_nul])
    min_find_rate_percent = IntegerField("Minimum find rate (%)", default=90, validators=[
        InputRequired("Enter the minimum find rate, 0 to 100."),
        NumberRange(0, 100, message="Enter the minimum find rate, 0 to 100.")])
    max_misses = IntegerField("Most missed aids per environment (empty: no limit)", validators=[
        Optional(), NumberRange(0, 1000, message="From 0 to 1000.")])
    max_false_responses = IntegerField("Most false responses per environment (empty: no limit)", validators=[
        Optional(), NumberRange(0, 1000, message="From 0 to 1000.")])
    negative_search_required = BooleanField("A negative search (an area with nothing placed) is required",
                                            default=True)

    def __init__(self, *args, user: User, standard=None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user, self.standard = user, standard
        self.certifying_body_id.choices = [SelectChoice("", "Choose …")] + _terms(
            "certifying_body", {standard.certifying_body_id} if standard else set())
        if user.role == "admin" and standard is None:
            from ..models import Agency
            agencies = db.session.scalars(select(Agency).where(Agency.archived_at.is_(None)).order_by(Agency.name))
            self.agency_id.choices = [SelectChoice("", "Choose …")] + [SelectChoice(a.id, a.name) for a in agencies]
        else:
            del self.agency_id

    @property
    def target_agency_id(self) -> int | None:
        if self.standard is not None:
            return self.standard.agency_id
        return self.agency_id.data if "agency_id" in self else self.user.agency_id

    def validate_agency_id(self, field):
        from ..models import Agency
        agency = named_record(Agency, field.data)
        if agency is None:
            raise ValidationError("Choose the agency.")

    def validate_certifying_body_id(self, field):
        _term_ok(field, "certifying_body", {self.standard.certifying_body_id} if self.standard else set())

    def validate_name(self, field):
        agency_id = self.target_agency_id
        if agency_id is None:
            return
        clash = db.session.scalar(select(AssessmentStandard).where(
            AssessmentStandard.agency_id == agency_id, AssessmentStandard.name == field.data.strip()))
        if clash is not None and clash is not self.standard:
            raise ValidationError("This agency already has a standard of that name.")
