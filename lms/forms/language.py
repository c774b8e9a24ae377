"""Choosing the language of the interface."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import RadioField
from wtforms.validators import InputRequired


class LanguageForm(FlaskForm):
    # Choices are the programme's languages (LMS_LANGUAGES), set by the view.
    locale = RadioField(_l("Language"), validators=[InputRequired(_l("Choose a language."))],
                        validate_choice=True)
