"""Blueprints, one per audience. Views are thin: check role, parse form, call a service, render."""

from __future__ import annotations

from flask import Blueprint, Flask

from lms.web import (
    admin,
    api,
    auth,
    calendar,
    credentials,
    home,
    language,
    lti,
    supervisor,
    trainee,
    trainer,
    verify,
)
from lms.web.blueprint import IdConverter

# Holds the templates and static files; a host's templates/lms/*.html override ours.
assets = Blueprint("lms", __name__, template_folder="../templates", static_folder="../static",
                   static_url_path="/lms-static")

BLUEPRINTS = (auth.bp, home.bp, trainee.bp, trainer.bp, supervisor.bp, admin.bp, calendar.bp,
              verify.bp, credentials.bp, api.bp, lti.bp, lti.admin_bp, language.bp)


def register_blueprints(app: Flask, prefix: str) -> None:
    app.url_map.converters.setdefault("id", IdConverter)
    app.register_blueprint(assets, url_prefix=prefix or None)
    for bp in BLUEPRINTS:
        app.register_blueprint(bp, url_prefix=(prefix + (bp.url_prefix or "")) or None)
