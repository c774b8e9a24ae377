"""Debriefs after a critical incident (the rules live in ``lms.services.debriefs``).

Fields carry no "required" validators: the service checks everything at once, so a form
shows every problem together. Follow-ups are a few fixed rows (``action_<n>`` and
``action_<n>_due``) so the page works without JavaScript; blank rows are ignored.
"""

from __future__ import annotations

from datetime import date

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from lms.forms.choices import choices
from lms.services.debriefs import INCIDENT_TYPES

# Follow-up rows on a new debrief, and extra rows when editing one.
ACTION_ROWS = 3


class _DebriefFields(FlaskForm):
    incident_type = SelectField(_l("Type of incident"), validate_choice=False,
                                choices=choices(INCIDENT_TYPES.items()))
    incident_on = DateField(_l("Date of the incident"), validators=[Optional()])
    what_happened = TextAreaField(
        _l("What happened"),
        description=_l("In general terms: what kind of situation, and what you did."))
    how_now = TextAreaField(_l("How is the peer supporter now?"))
    support_needed = TextAreaField(_l("What support do they need?"))
    # "Keep it as written": sent by the button in the warning about identifying text.
    keep_identifying = BooleanField()

    def action_rows(self) -> list[tuple[StringField, DateField]]:
        rows = []
        number = 1
        while hasattr(self, f"action_{number}"):
            rows.append((self[f"action_{number}"], self[f"action_{number}_due"]))
            number += 1
        return rows

    def actions(self) -> list[tuple[str, date | None]]:
        """Each follow-up row as typed, (description, due date); blank rows included."""
        return [(text.data or "", due.data) for text, due in self.action_rows()]

    def texts(self) -> dict[str, str]:
        return {"what_happened": self.what_happened.data or "",
                "how_now": self.how_now.data or "",
                "support_needed": self.support_needed.data or ""}


def _with_action_rows(base: type[FlaskForm], rows: int, name: str) -> type[FlaskForm]:
    fields = {}
    for number in range(1, rows + 1):
        fields[f"action_{number}"] = StringField(_l("Follow-up %(n)d", n=number))
        fields[f"action_{number}_due"] = DateField(_l("Follow-up %(n)d due by", n=number),
                                                   validators=[Optional()])
    return type(name, (base,), fields)


DebriefForm = _with_action_rows(_DebriefFields, ACTION_ROWS, "DebriefForm")


class _TraineeDebriefFields(_DebriefFields):
    how_now = TextAreaField(_l("How are you now?"))
    support_needed = TextAreaField(_l("What support would help you?"))


# The peer supporter starting their own debrief is asked about themself.
TraineeDebriefForm = _with_action_rows(_TraineeDebriefFields, ACTION_ROWS,
                                       "TraineeDebriefForm")
# Editing keeps the follow-ups already agreed and offers rows for new ones.
EditDebriefForm = _with_action_rows(_DebriefFields, 2, "EditDebriefForm")
TraineeEditDebriefForm = _with_action_rows(_TraineeDebriefFields, 2, "TraineeEditDebriefForm")


class CorrectionForm(FlaskForm):
    body = TextAreaField(_l("Correction"),
                         description=_l("Say what was wrong or missing. The debrief keeps its "
                                        "text; this note is added to it."))
    keep_identifying = BooleanField()


class FollowUpDoneForm(FlaskForm):
    """Only the CSRF token: the button says which, ``done=1`` (done) or ``done=0`` (not)."""
