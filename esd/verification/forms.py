"""The /verify form: a code or a digest, sent by GET so a QR code can carry it."""
from wtforms import StringField
from wtforms.validators import InputRequired, Length, ValidationError

from ..forms import SafeForm
from .services import parse_query


class VerifyForm(SafeForm):
    class Meta:
        csrf = False  # a GET form that changes nothing

    q = StringField("Verification code or SHA-256 digest",
                    validators=[InputRequired("Enter the code or the digest printed on the packet."),
                                Length(max=100)])

    def validate_q(self, field):
        if parse_query(field.data) is None:
            raise ValidationError("Enter the 10-character verification code (like 7K2M-Q9XD-4T) or the "
                                  "64-character SHA-256 digest printed on the packet.")
