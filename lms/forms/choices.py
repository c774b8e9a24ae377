"""Choice fields: select choices the way WTForms 3.3+ wants them, and a checkbox list."""

from __future__ import annotations

from collections.abc import Iterable

from wtforms import SelectMultipleField
from wtforms.fields.choices import SelectChoice
from wtforms.widgets import CheckboxInput, ListWidget


def choices(pairs: Iterable[tuple[object, str]]) -> list[SelectChoice]:
    return [SelectChoice(value, label) for value, label in pairs]


class CheckboxesField(SelectMultipleField):
    """Several choices as a list of checkboxes (easier on a phone than a multi-select)."""

    widget = ListWidget(prefix_label=False)
    option_widget = CheckboxInput()
