"""Validators and messages shared by several forms."""

from flask_babel import lazy_gettext as _l
from wtforms.validators import Length

PASSWORD_RULE = Length(min=10, max=256,
                       message=_l("Use at least 10 characters (and no more than 256)."))
