from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import (
    BooleanField,
    EmailField,
    PasswordField,
    SelectField,
    StringField,
)
from wtforms.fields.choices import SelectChoice
from wtforms.validators import DataRequired, Length, Optional

from lms.forms.choices import CheckboxesField
from lms.forms.messages import PASSWORD_RULE
from lms.models.people import ROLES

ROLE_NAMES = {"trainee": _l("Trainee"), "trainer": _l("Trainer"),
              "supervisor": _l("Supervisor"), "admin": _l("Admin")}
ROLE_CHOICES = [SelectChoice(r, ROLE_NAMES.get(r, r.capitalize())) for r in ROLES]


class PersonForm(FlaskForm):
    """A new person has no password: they choose one from the invitation link shown next."""

    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    roles = CheckboxesField(_l("Roles"), choices=ROLE_CHOICES, validators=[Optional()])
    cohort_id = SelectField(_l("Enrol in cohort (trainees)"), coerce=int, default=0)


class PersonEditForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    roles = CheckboxesField(_l("Roles"), choices=ROLE_CHOICES, validators=[Optional()])
    active = BooleanField(_l("Can log in"))
    new_password = PasswordField(
        _l("Set a new password (leave empty to keep)"),
        description=_l("They will have to choose their own at their next log-in. A new log-in "
                       "link is usually better: then nobody but them knows their password."),
        validators=[Optional(), PASSWORD_RULE])
    cohort_id = SelectField(_l("Also enrol in cohort"), coerce=int, default=0)
