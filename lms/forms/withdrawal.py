"""Withdrawing a trainee from a cohort (the rules live in ``lms.services.withdrawal``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, TextAreaField
from wtforms.validators import DataRequired, Length


class WithdrawForm(FlaskForm):
    withdrawn_on = DateField(_l("Last day in the cohort"),
                             description=_l("Sessions after this day no longer count for them."),
                             validators=[DataRequired(_l("Give the date they left the cohort."))])
    # No DataRequired: the service says why a reason is needed, next to this field.
    reason = TextAreaField(_l("Why are they leaving?"),
                           description=_l("Trainers and admins of this cohort see this reason."),
                           validators=[Length(max=1000)])


class ReinstateForm(FlaskForm):
    """Only the CSRF token: reinstating asks nothing more."""
