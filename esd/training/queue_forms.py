"""The training lists' forms: the sign-off queue's filter (a GET form) and bulk sign-off (CSRF only; the
chosen ids are read apart), and the filter of a dog's session list."""
from wtforms import BooleanField, DateField, SelectField
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


class SessionListFilterForm(SafeForm):
    """A dog's sessions by dates, purpose and blind hides; a bad value is shown beside its field and ignored."""

    class Meta:
        csrf = False  # a GET form that changes nothing; its URL can be bookmarked

    clamp_dates = True  # "to 9999-12-31" means to the end
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional(), not_before("start")])
    purpose = SelectField("Purpose", validators=[Optional()])  # choices: the view's, "Any" first
    blind = BooleanField("Blind hides only")


class SignOffForm(SafeForm):
    """Sign off the sessions ticked in the queue (`session_id`, repeated)."""
