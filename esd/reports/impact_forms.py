"""The impact report's filter: the dashboard's filter plus quarterly and yearly presets, calendar or fiscal."""
from wtforms import SelectField
from wtforms.fields.choices import SelectChoice
from wtforms.validators import Optional, ValidationError

from ..periods import MONTH_NAMES, PRESETS
from .forms import ReportFilterForm

PAPERS = ("a4", "letter")


class ImpactFilterForm(ReportFilterForm):
    """Agency, a preset period (or dates), calendar or fiscal years; no dog or handler (funders never pick one)."""

    preset = SelectField("Period", choices=[SelectChoice("", "The dates below")] + [SelectChoice(k, v) for k, v in PRESETS.items()],
                         default="",
                         validate_choice=False, validators=[Optional()])
    year = SelectField("Quarters and years", choices=[SelectChoice("calendar", "Calendar")], default="calendar",
                       validate_choice=False, validators=[Optional()])

    def offer_fiscal(self, fiscal_start: int) -> None:
        """Offer the viewer's fiscal year (set per funder by an administrator) beside the calendar's."""
        if fiscal_start != 1:
            self.year.choices = [SelectChoice("calendar", "Calendar"),
                                 SelectChoice("fiscal", f"Fiscal (from {MONTH_NAMES[fiscal_start - 1]})")]

    def validate_preset(self, field):
        if field.data and field.data not in PRESETS:
            raise ValidationError("Choose a period from the list.")

    def validate_year(self, field):
        if field.data and field.data not in {"calendar", "fiscal"}:
            raise ValidationError("Choose calendar or fiscal years.")
