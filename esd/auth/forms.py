"""Login and password forms."""
from wtforms import EmailField, PasswordField, SubmitField
from wtforms.validators import DataRequired, EqualTo, Length, ValidationError

from ..forms import SafeForm
from .passwords import MAX_LENGTH, password_problem


class LoginForm(SafeForm):
    email = EmailField("E-mail", validators=[DataRequired(), Length(max=254)])
    password = PasswordField("Password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    submit = SubmitField("Log in")


class NewPasswordMixin:
    """A new password checked against the password rules."""

    def validate_new_password(self, field):
        problem = password_problem(field.data or "", getattr(self, "email_for_check", None),
                                   getattr(self, "agency_name_for_check", None))
        if problem:
            raise ValidationError(problem)


class ChangePasswordForm(NewPasswordMixin, SafeForm):
    current_password = PasswordField("Current password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    new_password = PasswordField("New password", validators=[DataRequired(), Length(max=MAX_LENGTH)])
    confirm = PasswordField("Repeat new password",
                            validators=[DataRequired(), Length(max=MAX_LENGTH),
                                        EqualTo("new_password", "The passwords differ.")])
    submit = SubmitField("Change password")
