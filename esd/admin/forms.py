"""Forms of the admin area: agencies, users, vocabularies, the audit-log filter."""
from functools import lru_cache
from zoneinfo import available_timezones

from wtforms import (BooleanField, DateField, EmailField, IntegerField, PasswordField, SelectField,
                     SelectMultipleField, StringField)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Email, InputRequired, Length, NumberRange, Optional, ValidationError

from ..auth.passwords import MAX_LENGTH, password_problem
from ..dates import zone_label
from ..periods import FISCAL_START_CHOICES
from ..dogs.forms import choice_values, choices, none_if_blank, one_of_choices, optional_int, strip
from ..forms import SafeForm, not_before
from ..models.core import DEFAULT_PROFICIENCY_STANDARD, DEFAULT_READINESS_WINDOW_DAYS, DEFAULT_THRESHOLDS
from ..models.vocab import VOCAB_KINDS
from ..units import UNIT_LABELS
from ..roles import AGENCY_ROLES, ROLE_LABELS, ROLES, TRAINER_RIGHT_ROLES

KIND_LABELS = {"device_type": "Device types", "hiding_spot": "Hiding spots", "environment": "Environments",
               "certifying_body": "Certifying bodies", "location_type": "Location types"}


@lru_cache(maxsize=1)
def timezone_choices() -> list[tuple[str, str]]:
    return choices((name, f"{zone_label(name)} · {name}") for name in sorted(available_timezones())
                   if "/" in name or name == "UTC")


def parse_thresholds(text: str) -> list[int]:
    """Reminder thresholds from "90,60,30,14,7,1,0": days before expiry, 0 to 365, most distant first.

    Raises ValueError with a message a person understands.
    """
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if not parts:
        raise ValueError("Give at least one number of days, e.g. 90,60,30,14,7,1,0.")
    values = set()
    for part in parts:
        if not part.isdigit():
            raise ValueError(f"“{part}” is not a whole number of days; use numbers separated by commas.")
        value = int(part)
        if value > 365:
            raise ValueError(f"{value} days is more than a year; use 0 to 365.")
        values.add(value)
    return sorted(values, reverse=True)


class StandardsForm(SafeForm):
    """The agency's training standards: what the proficiency matrix and the readiness gaps measure against."""

    # Left blank, each keeps its default (services.save_agency).
    proficiency_standard = IntegerField(
        "Proficiency standard (find rate a dog should reach, %)", default=DEFAULT_PROFICIENCY_STANDARD,
        validators=[Optional(), NumberRange(1, 100, "A find rate is a percentage: use 1 to 100 (e.g. 90).")])
    readiness_window_days = IntegerField(
        "Readiness window (days a device type, spot, concealment or height may go untrained)",
        default=DEFAULT_READINESS_WINDOW_DAYS,
        validators=[Optional(), NumberRange(1, 365, "Use 1 to 365 days (e.g. 60).")])


class AgencyForm(StandardsForm):
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give the agency's name."),
                                                            Length(max=120)])
    timezone = SelectField("Time zone", default="America/New_York", validate_choice=False,
                           validators=[DataRequired("Choose the time zone."),
                                       one_of_choices("Choose a time zone from the list.")])
    warning_window_days = IntegerField("Warn about expiring certifications (days before)", default=60,
                                       validators=[InputRequired("Give a number of days."),
                                                   NumberRange(1, 365, "Use 1 to 365 days.")])
    reminder_thresholds = StringField("Reminder days before expiry", default=DEFAULT_THRESHOLDS,
                                      filters=[strip], validators=[DataRequired("Give the reminder days."), Length(max=200)])
    monthly_training_target_hours = IntegerField("Monthly training target (hours per dog)", default=16,
                                                 validators=[Optional(), NumberRange(0, 400, "Use 0 to 400 hours.")])
    temperature_unit = SelectField("Temperatures in", default="F", validate_choice=False,
                                   choices=[SelectChoice(k, v) for k, v in UNIT_LABELS.items()],
                                   validators=[one_of_choices("Choose Fahrenheit or Celsius.")])
    region = StringField("State or region (funders' national view groups agencies by it)", filters=[strip],
                         validators=[Optional(), Length(max=80)])

    def validate_reminder_thresholds(self, field):
        try:
            field.data = ",".join(str(v) for v in parse_thresholds(field.data))
        except ValueError as error:
            raise ValidationError(str(error)) from None


class UserForm(SafeForm):
    email = EmailField("E-mail", filters=[lambda v: v.strip().lower() if isinstance(v, str) else v],
                       validators=[DataRequired("Give the e-mail address."),
                                   Email("Enter a valid e-mail address.", check_deliverability=False),
                                   Length(max=254)])
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give the person's name."),
                                                            Length(max=120)])
    role = SelectField("Role", choices=choices((r, ROLE_LABELS[r]) for r in ROLES), default="handler",
                       validate_choice=False,
                       validators=[DataRequired("Choose the role."), one_of_choices("Choose one of the roles.")])
    agency = SelectField("Agency (managers and handlers)", coerce=optional_int, validate_choice=False,
                         validators=[one_of_choices("Choose an agency from the list.")])
    grants = SelectMultipleField("Agencies this funder sees (aggregates only)", coerce=int, validate_choice=False)
    fiscal_year_start = SelectField("Fiscal year starts in (funders)", coerce=optional_int, default=1,
                                    choices=choices(FISCAL_START_CHOICES), validate_choice=False,
                                    validators=[one_of_choices("Choose a month from January to December.")])
    trainer = BooleanField("Trainer right (a handler who plans, sees and closes the agency's sealed sessions; "
                           "managers are trainers already)", default=False)
    active = BooleanField("Active (may log in)", default=True)
    password = PasswordField("Initial password", validators=[Length(max=MAX_LENGTH)])

    editing_id = None
    password_required = True

    def validate_email(self, field):
        from sqlalchemy import select

        from ..extensions import db
        from ..models import User
        stmt = select(User).where(User.email == field.data)
        if self.editing_id is not None:
            stmt = stmt.where(User.id != self.editing_id)
        if db.session.scalar(stmt) is not None:
            raise ValidationError("Another account already uses this e-mail address.")

    def validate_agency(self, field):
        if self.role.data in AGENCY_ROLES and not field.data:
            raise ValidationError("Managers and handlers belong to an agency: choose it.")
        if self.role.data not in AGENCY_ROLES and field.data:
            raise ValidationError("Administrators and funders belong to no agency: leave this empty.")

    def validate_grants(self, field):
        known = choice_values(self.grants.choices)
        if any(value not in known for value in field.data or []):
            raise ValidationError("Choose agencies from the list.")
        if field.data and self.role.data != "funder":
            raise ValidationError("Only funders are granted agencies.")

    def validate_trainer(self, field):
        if field.data and self.role.data not in TRAINER_RIGHT_ROLES:
            raise ValidationError("Only a handler is given the trainer right: managers are trainers already; "
                                  "administrators and funders train no team.")

    def validate_password(self, field):
        if not field.data:
            if self.password_required:
                raise ValidationError("Give an initial password.")
            return
        agency_name = next((c.label for c in self.agency.choices or []
                            if getattr(c, "value", None) == self.agency.data and self.agency.data), None)
        problem = password_problem(field.data, self.email.data, agency_name)
        if problem:
            raise ValidationError(problem)


class TermForm(SafeForm):
    kind = SelectField("Vocabulary", choices=choices((k, KIND_LABELS[k]) for k in VOCAB_KINDS), validate_choice=False,
                       validators=[DataRequired(), one_of_choices("Choose a vocabulary.")])
    name = StringField("New term", filters=[strip], validators=[DataRequired("Give the term."), Length(max=80)])

    def validate_name(self, field):
        from sqlalchemy import select

        from ..extensions import db
        from ..models import VocabularyTerm
        # Compared in Python: SQLite's lower() folds ASCII only, so "Ördner" and "ÖRDNER" differed there.
        wanted = field.data.casefold()
        taken = next((t for t in db.session.scalars(select(VocabularyTerm).where(
            VocabularyTerm.kind == self.kind.data)) if t.name.casefold() == wanted), None)
        if taken is not None:
            raise ValidationError(f"“{taken.name}” is already in this vocabulary"
                                  + ("." if taken.active else " (inactive: reactivate it below)."))


class AuditFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET filter changes nothing

    clamp_dates = True
    entity = SelectField("Record kind", validate_choice=False, filters=[none_if_blank],
                         validators=[one_of_choices("Choose a record kind from the list.")])
    user = SelectField("User", coerce=optional_int, validate_choice=False,
                       validators=[one_of_choices("Choose a user from the list.")])
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional(), not_before("start")])
