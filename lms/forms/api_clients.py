from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import SelectField, StringField
from wtforms.validators import DataRequired, Length


class ApiClientForm(FlaskForm):
    name = StringField(_l("Which system will use it"),
                       description=_l("For example: Riverside case notes"),
                       validators=[DataRequired(), Length(max=200)])
    curriculum_id = SelectField(_l("What it may read"), coerce=int, default=0)


class RevokeApiClientForm(FlaskForm):
    """The button is the answer."""
