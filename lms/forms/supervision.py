"""Supervision record forms: one form for individual and group supervision (the supervisees
are checkboxes), its edit form, corrections, reflections and the action "done" button.

The rules (which people, dates, lengths, owners) live in ``lms.services.supervision``: the
fields here only parse, so a refused record shows every problem at once, next to its field.
The action rows' fields are named ``actions-<row>-<field>``, the keys the service uses for
their problems.
"""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, HiddenField, IntegerField, SelectField, StringField, TextAreaField
from wtforms.validators import Optional

from lms.forms.choices import CheckboxesField, choices
from lms.services.supervision import FORMATS, TOPICS, ActionInput

ACTION_ROWS = 3


class RecordFields(FlaskForm):
    """What a supervision record holds, essential fields first (quick on a phone)."""

    trainee_ids = CheckboxesField(
        _l("Who was there?"), coerce=int, validators=[Optional()],
        description=_l("Choose one person for individual supervision, or several for a "
                       "group."))
    held_on = DateField(_l("Date"), validators=[Optional()])
    duration_minutes = IntegerField(_l("How long, in minutes"), validators=[Optional()])
    # validate_choice off: the service says what to choose, in the record's own words.
    format = SelectField(_l("How did you meet?"), choices=choices(FORMATS.items()),
                         validate_choice=False)
    topics = CheckboxesField(_l("Topics"), choices=choices(TOPICS.items()),
                             validators=[Optional()], validate_choice=False)
    notes = TextAreaField(_l("Notes"), validators=[Optional()],
                          description=_l("The supervisee reads these notes. Please do not "
                                         "name the people they support."))
    private_note = TextAreaField(_l("Private note (optional)"), validators=[Optional()],
                                 description=_l("Only you will see this note."))

    def record_fields(self) -> dict:
        """The fields as the service's keyword arguments."""
        return {"trainee_ids": self.trainee_ids.data or [], "held_on": self.held_on.data,
                "duration_minutes": self.duration_minutes.data,
                "format": self.format.data or None, "topics": self.topics.data or [],
                "notes": self.notes.data or "", "private_note": self.private_note.data or ""}


class RecordForm(RecordFields):
    """A new record, with up to ``ACTION_ROWS`` actions agreed (blank rows are ignored)."""

    def action_rows(self) -> list[tuple[int, StringField, SelectField, DateField]]:
        return [(row, self[f"actions-{row}-description"], self[f"actions-{row}-owner_id"],
                 self[f"actions-{row}-due_on"]) for row in range(ACTION_ROWS)]

    def action_inputs(self) -> list[ActionInput]:
        """Every row, blank ones included, so each problem lands on its own row."""
        return [ActionInput(description=(text.data or ""), owner_id=owner.data or None,
                            due_on=due.data)
                for _row, text, owner, due in self.action_rows()]

    def later_rows_used(self) -> bool:
        """Whether a row after the first holds anything typed or refused (it starts open)."""
        return any(text.data or (due.raw_data and due.raw_data[0]) or text.errors
                   or owner.errors or due.errors
                   for _row, text, owner, due in self.action_rows()[1:])

    def set_owner_choices(self, pairs: list[tuple[int, str]], default: int | None = None
                          ) -> None:
        for _row, _text, owner, _due in self.action_rows():
            owner.choices = choices([(0, _l("Choose who will do it"))] + pairs)
            if default and owner.data in (None, 0) and not owner.raw_data:
                owner.data = default


# The row fields are named as the service names their problems ("actions-0-description"), so
# each problem is shown next to its field.
for _row in range(ACTION_ROWS):
    setattr(RecordForm, f"actions-{_row}-description",
            StringField(_l("What was agreed"), validators=[Optional()]))
    setattr(RecordForm, f"actions-{_row}-owner_id",
            SelectField(_l("Who will do it"), coerce=int, default=0, validate_choice=False))
    setattr(RecordForm, f"actions-{_row}-due_on",
            DateField(_l("Due by"), validators=[Optional()]))
del _row


class EditRecordForm(RecordFields):
    """Changing a record within its edit window: the same fields, without the actions."""


class CorrectionForm(FlaskForm):
    body = TextAreaField(_l("Your correction"), validators=[Optional()],
                         description=_l("The record is kept as it is; your correction is "
                                        "shown below it with your name and the date."))


class ReflectionForm(FlaskForm):
    reflection = TextAreaField(_l("What did you take from this supervision?"),
                               validators=[Optional()],
                               description=_l("Your supervisor reads it. Please do not name "
                                              "the people you support."))


class ActionDoneForm(FlaskForm):
    """The "done" / "not done" button of an action: ``done`` is 1 or 0."""

    done = HiddenField()

    @property
    def marks_done(self) -> bool | None:
        return {"1": True, "0": False}.get(self.done.data or "")
