"""Forms of the dogs area: dogs, handlers, teams."""
from flask_wtf.file import FileAllowed, FileField
from wtforms.fields.choices import SelectChoice
from wtforms import DateField, EmailField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, Email, Length, Optional, ValidationError

from ..forms import SafeForm, happened, not_before
from ..models.core import DOG_STATUSES, SEXES
from ..parsing import optional_int

STATUS_LABELS = {"in_training": "In training", "active": "Active", "retired": "Retired"}
SEX_LABELS = {"male": "Male", "female": "Female"}




def one_of_choices(message):
    """Refuse a value that is not among the field's choices, with a message a person understands."""
    def check(form, field):
        if field.data in (None, ""):
            return
        if field.data not in choice_values(field.choices):
            raise ValidationError(message)
    return check


def choices(pairs) -> list[SelectChoice]:
    """Select options from (value, label) pairs (WTForms 3.3 deprecates bare tuples)."""
    return [SelectChoice(value, label) for value, label in pairs]


def choice_values(options) -> set:
    return {c.value if isinstance(c, SelectChoice) else c[0] for c in options}


def strip(value):
    return value.strip() if isinstance(value, str) else value


def none_if_blank(value):
    value = strip(value)
    return value or None


class ArchiveForm(SafeForm):
    """A button that archives a record (CSRF only)."""


class DogForm(SafeForm):
    agency = SelectField("Agency", coerce=optional_int, validate_choice=False,
                         validators=[DataRequired("Choose the agency."),
                                     one_of_choices("Choose one of the agencies in the list.")])
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give the dog's name."), Length(max=80)])
    call_sign = StringField("Call sign", filters=[none_if_blank], validators=[Optional(), Length(max=40)])
    breed = StringField("Breed", filters=[none_if_blank], validators=[Optional(), Length(max=80)])
    sex = SelectField("Sex", choices=choices([("", "—")] + [(s, SEX_LABELS[s]) for s in SEXES]), validate_choice=False,
                      filters=[none_if_blank], validators=[one_of_choices("Choose male or female.")])
    date_of_birth = DateField("Date of birth", validators=[Optional(), happened])
    microchip_id = StringField("Microchip id", filters=[none_if_blank], validators=[Optional(), Length(max=40)])
    status = SelectField("Status", choices=choices((s, STATUS_LABELS[s]) for s in DOG_STATUSES), default="in_training",
                         validate_choice=False,
                         validators=[DataRequired("Choose the status."),
                                     one_of_choices("Unknown status: choose in training, active or retired.")])
    acquired_on = DateField("Acquired on", validators=[Optional(), happened])
    retired_on = DateField("Retired on", validators=[Optional(), happened])
    photo = FileField("Photo (JPEG or PNG, optional)",
                      validators=[FileAllowed(["jpg", "jpeg", "png"], "The photo must be a JPEG or PNG file.")])

    editing_id = None  # the dog being edited: its own microchip id is not a duplicate
    editing_agency_id = None  # its agency (the form has no agency field when editing)

    def agency_for_day(self) -> int | None:
        """The dog's agency: the one chosen for a new dog, the dog's own when editing."""
        if "agency" in self and isinstance(self.agency.data, int) and self.agency.data > 0:
            return self.agency.data
        return self.editing_agency_id

    def validate_microchip_id(self, field):
        from .services import microchip_owner
        if microchip_owner(field.data, self.editing_id) is not None:
            raise ValidationError(f"Microchip id {field.data} is already registered to another dog.")

    def validate_retired_on(self, field):
        if field.data and self.acquired_on.data and field.data < self.acquired_on.data:
            raise ValidationError("The retired date cannot be before the acquired date.")

    def validate_date_of_birth(self, field):
        if field.data and self.acquired_on.data and self.acquired_on.data < field.data:
            raise ValidationError("The date of birth cannot be after the acquired date.")


class HandlerForm(SafeForm):
    agency = SelectField("Agency", coerce=optional_int, validate_choice=False,
                         validators=[DataRequired("Choose the agency."),
                                     one_of_choices("Choose one of the agencies in the list.")])
    name = StringField("Name", filters=[strip], validators=[DataRequired("Give the handler's name."),
                                                            Length(max=120)])
    badge_number = StringField("Badge number", filters=[none_if_blank], validators=[Optional(), Length(max=40)])
    phone = StringField("Phone", filters=[none_if_blank], validators=[Optional(), Length(max=40)])
    email = EmailField("E-mail", filters=[none_if_blank],
                       validators=[Optional(), Email("Enter a valid e-mail address.", check_deliverability=False),
                                   Length(max=254)])
    user = SelectField("Linked user account", coerce=optional_int, validate_choice=False,
                       validators=[one_of_choices("Choose a handler account of the same agency.")])

    editing_id = None
    fixed_agency_id = None  # a manager's agency; admins choose it in the form

    def agency_id(self) -> int | None:
        return self.fixed_agency_id if self.fixed_agency_id is not None else self.agency.data

    def validate_badge_number(self, field):
        from .services import badge_owner
        agency_id = self.agency_id()
        if agency_id and badge_owner(agency_id, field.data, self.editing_id) is not None:
            raise ValidationError(f"Badge number {field.data} is already used by another handler of this agency.")

    def validate_user(self, field):
        from ..extensions import db
        from ..models import User
        if not field.data:
            return
        user = db.session.get(User, field.data)
        if user is None or user.role != "handler" or user.agency_id != self.agency_id():
            raise ValidationError("Choose a handler account of the same agency.")


class TeamForm(SafeForm):
    handler = SelectField("Handler", coerce=optional_int, validate_choice=False,
                          validators=[DataRequired("Choose the handler."),
                                      one_of_choices("Choose a handler of this dog's agency.")])
    starts_on = DateField("Starts on", validators=[DataRequired("Give the first day of the team.")])
    ends_on = DateField("Ends on (leave empty while the team works)",
                        validators=[Optional(), not_before("starts_on", "The end date cannot be before the start date.")])
    notes = TextAreaField("Notes", filters=[none_if_blank], validators=[Optional(), Length(max=2000)])


class EndTeamForm(SafeForm):
    ends_on = DateField("Last day of the team", validators=[DataRequired("Give the team's last day.")])
