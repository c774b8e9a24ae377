"""The self-care check-in form: five 1-5 scales, a note and "I would like to talk"."""

from __future__ import annotations

from collections.abc import Iterator

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, RadioField, TextAreaField
from wtforms.validators import Length, Optional

from lms.forms.choices import choices
from lms.services.check_ins import HIGHEST, ITEMS, LOWEST, MAX_NOTE, Item

CHOOSE = _l("Choose a number from 1 to 5.")


def _scale(item: Item) -> RadioField:
    # One message whether nothing was chosen or the value was tampered with ("x", 6).
    return RadioField(item.question, coerce=int,
                      choices=choices((n, str(n)) for n in range(LOWEST, HIGHEST + 1)),
                      invalid_choice_message=CHOOSE, invalid_value_message=CHOOSE)


class CheckInForm(FlaskForm):
    mood = _scale(ITEMS[0])
    calm = _scale(ITEMS[1])
    manageable = _scale(ITEMS[2])
    sleep = _scale(ITEMS[3])
    supported = _scale(ITEMS[4])
    note = TextAreaField(_l("Anything you would like to add? (optional)"),
                         description=_l("Your supervisor reads this. Please do not name the "
                                        "people you support."),
                         validators=[Optional(), Length(max=MAX_NOTE, message=_l(
                             "Keep your note to %(max)d characters or fewer."))])
    wants_to_talk = BooleanField(_l("I would like to talk to my supervisor"))

    def scales(self) -> Iterator[tuple[RadioField, Item]]:
        """Each item's field with the item (its question and the words for 1 and 5)."""
        for item in ITEMS:
            yield getattr(self, item.key), item

    def scores(self) -> dict[str, int]:
        return {item.key: getattr(self, item.key).data for item in ITEMS}
