"""The case-outcome form: what a search led to, counts only (a blank count is not known yet)."""
from wtforms import IntegerField
from wtforms.validators import NumberRange, Optional, ValidationError

from ..forms import SafeForm
from ..models.outcomes import MAX_OUTCOME_COUNT, OUTCOME_COUNTS

# Labels people read on the form, the deployment page and (as totals) the funders' report.
OUTCOME_LABELS = {
    "devices_examined": "Devices sent for forensic examination",
    "devices_with_evidence": "Devices that held evidence",
    "arrests": "Arrests",
    "charges": "Charges filed",
    "children_safeguarded": "Children identified or safeguarded",
}


def _count(name: str) -> IntegerField:
    return IntegerField(OUTCOME_LABELS[name], validators=[
        Optional(), NumberRange(0, MAX_OUTCOME_COUNT, f"Use a whole number from 0 to {MAX_OUTCOME_COUNT:,}.")])


class CaseOutcomeForm(SafeForm):
    """Counts only: no names, no case details."""

    devices_examined = _count("devices_examined")
    devices_with_evidence = _count("devices_with_evidence")
    arrests = _count("arrests")
    charges = _count("charges")
    children_safeguarded = _count("children_safeguarded")

    def validate_devices_with_evidence(self, field):
        examined = self.devices_examined.data
        if field.data is not None and examined is not None and field.data > examined:
            raise ValidationError(f"More devices with evidence ({field.data}) than examined ({examined}): "
                                  "a device holds evidence only once it has been examined.")

    def counts(self) -> dict[str, int | None]:
        return {name: self[name].data for name in OUTCOME_COUNTS}
