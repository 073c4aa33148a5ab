"""Forms of two-factor sign-in: a code (from the app or a recovery code), and the administrator's rules."""
from wtforms import SelectMultipleField, StringField, SubmitField
from wtforms.validators import DataRequired, Length, ValidationError

from ..dogs.forms import choice_values
from ..forms import SafeForm


class CodeForm(SafeForm):
    code = StringField("Code", validators=[DataRequired("Type the 6-digit code from your app."), Length(max=40)])
    submit = SubmitField("Continue")


class EnrolForm(SafeForm):
    code = StringField("The 6-digit code your app shows now",
                       validators=[DataRequired("Type the 6-digit code your app shows."), Length(max=40)])
    submit = SubmitField("Turn on two-factor sign-in")


class TwoFactorRulesForm(SafeForm):
    roles = SelectMultipleField("Everyone with the role", validate_choice=False)
    agencies = SelectMultipleField("Everyone in the agency", coerce=int, validate_choice=False)

    def validate_roles(self, field):
        if any(value not in choice_values(self.roles.choices) for value in field.data or []):
            raise ValidationError("Choose roles from the list.")

    def validate_agencies(self, field):
        if any(value not in choice_values(self.agencies.choices) for value in field.data or []):
            raise ValidationError("Choose agencies from the list.")
