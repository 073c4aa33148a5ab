"""The export filter: a date range, sent by GET so a download link can be bookmarked."""
from wtforms import DateField
from wtforms.validators import Optional

from ..forms import SafeForm, not_before


class ExportForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    clamp_dates = True
    start = DateField("From", validators=[Optional()])
    end = DateField("To", validators=[Optional(), not_before("start")])
