"""The sign-off queue's forms: its filter (a GET form) and the bulk sign-off (CSRF only; the chosen ids are read apart)."""
from wtforms import DateField, SelectField
from wtforms.validators import Optional, ValidationError

from ..forms import SafeForm, not_before
from ..parsing import NOT_AN_ID, optional_int
from ..reports.forms import PlainSelect


def _listed(form, field):
    if field.data == NOT_AN_ID:
        raise ValidationError(f"Choose a {field.label.text.lower()} from the list.")


class QueueFilterForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing; its URL can be bookmarked

    clamp_dates = True
    # Choices list what the user may pick; an id outside them is checked for scope (404), not refused.
    dog = SelectField("Dog", coerce=optional_int, validate_choice=False, validators=[Optional(), _listed],
                      widget=PlainSelect())
    handler = SelectField("Handler", coerce=optional_int, validate_choice=False, validators=[Optional(), _listed],
                          widget=PlainSelect())
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional(), not_before("start")])


class SignOffForm(SafeForm):
    """Sign off the sessions ticked in the queue (`session_id`, repeated)."""
