"""The export filter: a date range, sent by GET so a download link can be bookmarked."""
from wtforms import DateField
from wtforms.validators import Optional, ValidationError

from ..forms import SafeForm


class ExportForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    clamp_dates = True
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional()])

    def validate_end(self, field):
        if field.data and self.start.data and field.data < self.start.data:
            raise ValidationError("The end date is before the start date.")
