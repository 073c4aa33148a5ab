"""Every form of the app bounds what it accepts: text has a length, and forms share SafeForm's checks."""
import importlib
import inspect
import pkgutil

import wtforms
from wtforms.fields.core import UnboundField
from wtforms.validators import AnyOf, Length

import esd
from esd.forms import SafeForm

# Free text as WTForms reads it (subclasses that parse numbers, dates or ids bound themselves).
TEXT_FIELDS = (wtforms.StringField, wtforms.TextAreaField, wtforms.EmailField, wtforms.PasswordField,
               wtforms.HiddenField)


def form_classes():
    """Every form class defined in the esd package."""
    found = {}
    for module in pkgutil.walk_packages(esd.__path__, "esd."):
        mod = importlib.import_module(module.name)
        for name, obj in vars(mod).items():
            if inspect.isclass(obj) and issubclass(obj, wtforms.Form) and obj.__module__ == mod.__name__:
                found[f"{mod.__name__}.{name}"] = obj
    return found


def test_every_request_form_is_a_safe_form():
    from flask_wtf import FlaskForm
    plain = [name for name, cls in form_classes().items() if issubclass(cls, FlaskForm) and not issubclass(cls, SafeForm)]
    assert not plain, f"forms without the shared bounds of SafeForm: {plain}"


def test_every_text_field_has_a_length_or_a_list_of_values():
    missing = []
    for name, cls in form_classes().items():
        for attr, value in inspect.getmembers(cls):
            if isinstance(value, UnboundField) and value.field_class in TEXT_FIELDS:
                validators = value.kwargs.get("validators") or (value.args[1] if len(value.args) > 1 else [])
                if not any((isinstance(v, Length) and v.max > 0) or isinstance(v, AnyOf) for v in validators):
                    missing.append(f"{name}.{attr}")
    assert not missing, f"text fields without a Length(max=…): {missing}"
