"""Signing an agreement by typing one's full name (the rules live in
``lms.services.agreements``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField
from wtforms.validators import Length

from lms.services.agreements import MAX_TYPED_NAME


class SignAgreementForm(FlaskForm):
    # No DataRequired: the service says what to type (the name on the account) next to it.
    typed_name = StringField(
        _l("Type your full name to sign"),
        description=_l("Typing your name here is your signature: it says you have read this "
                       "agreement and will keep to it."),
        validators=[Length(max=MAX_TYPED_NAME, message=_l(
            "Type your full name as it appears on your account."))])
