"""Acknowledging a supervision flag."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, TextAreaField
from wtforms.validators import DataRequired, Length


class AcknowledgeForm(FlaskForm):
    key = HiddenField()
    note = TextAreaField(_l("Note"), description=_l("What you did or decided, for example "
                                                    "“Phoned her; we meet on Friday.”"),
                         validators=[DataRequired(_l("Write a note: what you did or decided "
                                                     "about this flag.")),
                                     Length(max=2000)])
