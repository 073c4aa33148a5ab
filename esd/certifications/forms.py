"""Certification forms: record or renew a team's certification; the reminder e-mail preference."""
from flask_wtf.file import FileField
from sqlalchemy import select
from wtforms import BooleanField, DateField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, NumberRange, Optional, ValidationError

from ..extensions import db
from ..forms import SafeForm, happened, named_record
from ..models import Dog, Handler, VocabularyTerm
from ..parsing import optional_int
from ..scoping import can_manage
from .services import certificate_problem

DISCIPLINE_LABELS = {"esd": "ESD (electronic storage devices)", "tppo": "TPPO (thumb drives, phones, …)"}
RESULT_LABELS = {"pass": "Pass", "fail": "Fail"}




def dog_label(dog: Dog, with_agency: bool = False) -> str:
    label = f"{dog.name} ({dog.call_sign})" if dog.call_sign else dog.name
    return label + (f" — {dog.agency.name}" if with_agency else "")


class CertificationForm(SafeForm):
    """A team's certification; `user` decides which dogs may be named, `fixed_dog` locks it (renewal)."""

    dog_id = SelectField("Dog", coerce=optional_int, validate_choice=False,
                         validators=[DataRequired("Choose the dog.")])
    handler_id = SelectField("Handler (the team certified)", coerce=optional_int, validate_choice=False,
                             validators=[Optional()])
    certifying_body_id = SelectField("Certifying body", coerce=optional_int, validate_choice=False,
                                     validators=[DataRequired("Choose the certifying body.")])
    discipline = SelectField("Discipline", choices=[SelectChoice(k, v) for k, v in DISCIPLINE_LABELS.items()], default="esd",
                             validate_choice=False)
    issued_on = DateField("Issued on", validators=[DataRequired("Enter the date of issue (YYYY-MM-DD)."), happened])
    expires_on = DateField("Expires on", validators=[Optional()],
                           description="Leave empty for one year after the date of issue.")
    evaluator = StringField("Evaluator", validators=[Optional(), Length(max=120)])
    result = SelectField("Result", choices=[SelectChoice(k, v) for k, v in RESULT_LABELS.items()], default="pass", validate_choice=False)
    score_finds = IntegerField("Finds", validators=[Optional(), NumberRange(min=0, message="Cannot be negative.")])
    score_hides = IntegerField("of hides", validators=[Optional(), NumberRange(min=0, message="Cannot be negative.")])
    score_false_alerts = IntegerField("False alerts",
                                      validators=[Optional(), NumberRange(min=0, message="Cannot be negative.")])
    notes = TextAreaField("Notes", validators=[Optional(), Length(max=4000)])
    certificate = FileField("Certificate (PDF, PNG or JPEG, at most 10 MB)")

    def __init__(self, *args, user, fixed_dog: Dog | None = None, **kwargs):
        super().__init__(*args, **kwargs)
        self.user = user
        self.fixed_dog = fixed_dog
        dogs = select(Dog).where(Dog.archived_at.is_(None)).order_by(Dog.name)
        handlers = select(Handler).where(Handler.archived_at.is_(None)).order_by(Handler.name)
        if user.role != "admin":
            dogs = dogs.where(Dog.agency_id == user.agency_id)
            handlers = handlers.where(Handler.agency_id == user.agency_id)
        if fixed_dog is not None:
            dogs = select(Dog).where(Dog.id == fixed_dog.id)
            handlers = handlers.where(Handler.agency_id == fixed_dog.agency_id)
        admin = user.role == "admin"
        self.dog_id.choices = [SelectChoice("", "Choose …")] + [
            SelectChoice(d.id, dog_label(d, admin)) for d in db.session.scalars(dogs)]
        self.handler_id.choices = [SelectChoice("", "No handler recorded")] + [
            SelectChoice(h.id, h.name + (f" — {h.agency.name}" if admin else "")) for h in db.session.scalars(handlers)]
        bodies = db.session.scalars(select(VocabularyTerm).where(
            VocabularyTerm.kind == "certifying_body", VocabularyTerm.active.is_(True))
            .order_by(VocabularyTerm.position, VocabularyTerm.name))
        self.certifying_body_id.choices = [SelectChoice("", "Choose …")] + [SelectChoice(t.id, t.name) for t in bodies]

    def agency_for_day(self) -> int | None:
        """The certified dog's agency (its day bounds the date of issue)."""
        dog = named_record(Dog, self.dog_id.data)
        return dog.agency_id if dog is not None else None

    def validate_dog_id(self, field):
        dog = named_record(Dog, field.data)
        if dog is None or dog.archived_at is not None or not can_manage(self.user, dog.agency_id):
            raise ValidationError("This dog is not one of your agency's dogs: choose one from the list.")
        if self.fixed_dog is not None and dog.id != self.fixed_dog.id:
            raise ValidationError(f"A renewal is for {self.fixed_dog.name}, the dog of the certification it renews.")

    def validate_handler_id(self, field):
        if field.data is None:
            return
        handler = named_record(Handler, field.data)
        dog = named_record(Dog, self.dog_id.data)
        if handler is None or handler.archived_at is not None or not can_manage(self.user, handler.agency_id):
            raise ValidationError("This handler is not one of your agency's handlers: choose one from the list.")
        if dog is not None and handler.agency_id != dog.agency_id:
            raise ValidationError("The handler must belong to the dog's agency.")

    def validate_certifying_body_id(self, field):
        body = named_record(VocabularyTerm, field.data)
        if body is None or body.kind != "certifying_body" or not body.active:
            raise ValidationError("Unknown certifying body: choose one from the list.")

    def validate_discipline(self, field):
        if field.data not in DISCIPLINE_LABELS:
            raise ValidationError("Choose ESD or TPPO.")

    def validate_result(self, field):
        if field.data not in RESULT_LABELS:
            raise ValidationError("Choose pass or fail.")

    def validate_expires_on(self, field):
        if field.data and self.issued_on.data and field.data <= self.issued_on.data:
            raise ValidationError("The expiry date must be after the date of issue.")

    def validate_score_finds(self, field):
        if field.data is not None and self.score_hides.data is not None and field.data > self.score_hides.data:
            raise ValidationError("There cannot be more finds than hides.")

    def validate_certificate(self, field):
        upload = field.data
        if not upload or not getattr(upload, "filename", None):
            field.data = None
            return
        problem = certificate_problem(upload)
        if problem:
            raise ValidationError(problem)


class CorrectionForm(CertificationForm):
    """Correct what was entered wrong (a typo in the evaluator, the wrong expiry), saying why."""

    certificate = None  # the certificate file stays; a new document is a renewal
    reason = TextAreaField("Reason for the correction", validators=[
        DataRequired("Say why the certification is corrected (it is kept in the audit log)."), Length(max=300)],
        description="For example: evaluator's name misspelt; expiry copied wrong from the certificate.")


class ReminderPreferenceForm(SafeForm):
    email_reminders = BooleanField("Send me certification reminders by e-mail")
