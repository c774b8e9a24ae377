"""Registering an LTI 1.3 platform (the rules, such as https only, live in
``lms.services.lti``)."""

from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import StringField, TextAreaField
from wtforms.validators import DataRequired, Length


class PlatformForm(FlaskForm):
    name = StringField(_l("Name"), description=_l("How lms's admins will know it, e.g. "
                                                  "\"Our Moodle\"."),
                       validators=[DataRequired(_l("Enter a name.")), Length(max=200)])
    issuer = StringField(_l("Issuer (platform id)"),
                         description=_l("Moodle: the site's address; Canvas: "
                                        "https://canvas.instructure.com."),
                         validators=[DataRequired(_l("Enter the platform's issuer.")),
                                     Length(max=255)])
    client_id = StringField(_l("Client id"),
                            description=_l("The id the platform gave lms when you added it."),
                            validators=[DataRequired(_l("Enter the client id.")),
                                        Length(max=255)])
    deployment_ids = TextAreaField(_l("Deployment ids"),
                                   description=_l("One a line. Launches from other deployments "
                                                  "are refused."),
                                   validators=[DataRequired(_l("Enter a deployment id.")),
                                               Length(max=5000)])
    auth_login_url = StringField(_l("Authentication request URL"),
                                 validators=[DataRequired(_l("Enter an https:// address.")),
                                             Length(max=1000)])
    auth_token_url = StringField(_l("Access token URL"),
                                 validators=[DataRequired(_l("Enter an https:// address.")),
                                             Length(max=1000)])
    key_set_url = StringField(_l("Public keyset URL"),
                              validators=[DataRequired(_l("Enter an https:// address.")),
                                          Length(max=1000)])


class RemovePlatformForm(FlaskForm):
    """Only the CSRF token: the platform is named in the URL's query."""
