"""Rating an observed competency, signing a trainee off (or deferring), and revoking."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import DateField, RadioField, SelectField, TextAreaField
from wtforms.validators import Optional

from lms.forms.choices import choices

RATING_CHOICES = (("not_yet", _l("Not yet")), ("developing", _l("Developing")),
                  ("competent", _l("Competent")))
SETTING_CHOICES = (("role_play", _l("Role-play")), ("observed_session", _l("Observed session")),
                   ("shadowing", _l("Shadowing")))


class RatingForm(FlaskForm):
    competency = SelectField(_l("Competency"), validate_choice=False)
    rating = RadioField(_l("Rating"), choices=choices(RATING_CHOICES), validate_choice=False)
    observed_on = DateField(_l("When did you see it?"), validators=[Optional()])
    setting = RadioField(_l("Where?"), choices=choices(SETTING_CHOICES), validate_choice=False)
    evidence = TextAreaField(_l("What you saw"),
                             description=_l("The evidence: what they did and said. Do not "
                                            "name clients."))


class SignOffForm(FlaskForm):
    decision = RadioField(_l("Decision"), choices=choices((
        ("deploy", _l("Deploy: ready to work with clients")),
        ("defer", _l("Defer: not yet, with a plan and a review date")))),
        validate_choice=False)
    reasons = TextAreaField(_l("Reasons (to defer)"))
    plan = TextAreaField(_l("The plan before the review (to defer)"))
    review_on = DateField(_l("Review date (to defer)"), validators=[Optional()])
    override_justification = TextAreaField(
        _l("Why deploy although a standard is not met? (only then)"),
        description=_l("An override is recorded in the audit log with your name."))


class RevokeForm(FlaskForm):
    reason = TextAreaField(_l("Why is this deployment revoked?"))
