from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from flask_wtf.file import FileAllowed, FileField, FileRequired
from wtforms import (
    BooleanField,
    DateField,
    EmailField,
    IntegerField,
    SelectField,
    StringField,
    TextAreaField,
    TimeField,
)
from wtforms.validators import (
    DataRequired,
    InputRequired,
    Length,
    NumberRange,
    Optional,
    ValidationError,
)

from lms.forms.choices import CheckboxesField, choices
from lms.models.agenda import ACTIVITIES
from lms.services import time_zones


class TimeZoneName:
    """Accept an IANA zone or a city name, and keep the zone's canonical name."""

    def __call__(self, form: FlaskForm, field: StringField) -> None:
        zone = time_zones.resolve(field.data or "")
        if zone is None:
            raise ValidationError(_l("Choose a time zone from the list, or type a city such "
                                     "as Nairobi."))
        field.data = zone


class CohortForm(FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    curriculum_id = SelectField(_l("Curriculum"), coerce=int)
    starts_on = DateField(_l("Starts on"), validators=[Optional()])
    ends_on = DateField(_l("Ends on"), validators=[Optional()])
    timezone = StringField(_l("Time zone"), default="UTC",
                           description=_l("Type a city (Nairobi) or a zone (Africa/Nairobi)."),
                           validators=[DataRequired(), Length(max=64), TimeZoneName()])
    trainers = CheckboxesField(_l("Trainers"), coerce=int, validators=[Optional()])
    supervisors = CheckboxesField(_l("Supervisors"), coerce=int, validators=[Optional()])


class EnrolmentDateFields:
    """Enrolment is dated today in the cohort's zone; a trainer may back-date it with a reason."""

    enrolled_on = DateField(_l("Enrolled from (optional)"),
                            description=_l("Leave empty for today. An earlier date needs a "
                                           "reason, which is kept."),
                            validators=[Optional()])
    backdate_reason = StringField(_l("Why is it back-dated?"),
                                  validators=[Optional(), Length(max=500)])


class EnrolOneForm(EnrolmentDateFields, FlaskForm):
    name = StringField(_l("Name"), validators=[DataRequired(), Length(max=200)])
    email = EmailField(_l("Email"), validators=[DataRequired(), Length(max=254)])
    supervisor_id = SelectField(_l("Supervisor"), coerce=int, default=0)


class EnrolCsvForm(EnrolmentDateFields, FlaskForm):
    file = FileField(_l("CSV file: name, email, supervisor email (optional)"),
                     validators=[FileRequired(),
                                 FileAllowed(["csv", "txt"], _l("Upload a .csv file."))])


class SessionForm(FlaskForm):
    title = StringField(_l("Title"), validators=[DataRequired(), Length(max=200)])
    on_date = DateField(_l("Date"), validators=[DataRequired()])
    start_time = TimeField(_l("Start time"), validators=[DataRequired()])
    duration_minutes = IntegerField(_l("Duration (minutes)"), default=120,
                                    validators=[DataRequired(), NumberRange(1, 24 * 60)])
    venue = StringField(_l("Venue"), validators=[Optional(), Length(max=300)])
    online_link = StringField(_l("Online link"), validators=[Optional(), Length(max=500)])
    facilitator_id = SelectField(_l("Facilitator"), coerce=int, default=0)
    module_ids = CheckboxesField(_l("Modules covered"), coerce=int, validators=[Optional()])
    activities = CheckboxesField(_l("Activities"), validators=[Optional()],
                                 choices=choices((a, a) for a in ACTIVITIES))
    is_core = BooleanField(_l("Core session (the standards require it)"))


class CancelForm(FlaskForm):
    reason = StringField(_l("Why is it cancelled?"), validators=[DataRequired(), Length(max=500)])


class CopyAgendaForm(FlaskForm):
    source_id = SelectField(_l("Copy the agenda of"), coerce=int)
    first_date = DateField(_l("Date of the first session"), validators=[DataRequired()])


class MakeUpForm(FlaskForm):
    person_id = SelectField(_l("Trainee"), coerce=int)
    via_session_id = SelectField(_l("Attended this session of another cohort"), coerce=int,
                                 default=0)
    activity = TextAreaField(_l("…or a make-up activity"),
                             validators=[Optional(), Length(max=2000)])
    minutes = IntegerField(_l("Minutes to credit for the activity"), validators=[Optional()])


class FeedbackForm(FlaskForm):
    rating = SelectField(_l("How useful was this session?"), coerce=int,
                         choices=choices([(5, _l("5 – very useful")), (4, "4"), (3, "3"),
                                          (2, "2"), (1, _l("1 – not useful"))]),
                         validators=[InputRequired(message=_l("Choose how useful the session "
                                                               "was, from 1 to 5."))])
    comment = TextAreaField(_l("Anything to tell the trainers? (optional)"),
                            validators=[Optional(), Length(max=2000)])
