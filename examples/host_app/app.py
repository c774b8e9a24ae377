"""A host Flask app that mounts lms under /training.

Run it from the repository root:

    SECRET_KEY=change-me flask --app examples/host_app/app.py run

The host keeps its own pages and templates; lms brings its own tables (prefixed ``lms_``), pages
(under /training) and accounts. A host with its own log-in system sets ``LMS_CURRENT_PERSON`` to
a callable returning the lms ``Person`` for the current user instead.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask, render_template_string

from lms import LMS

lms = LMS()


def create_host_app(config: dict[str, Any] | None = None) -> Flask:
    app = Flask(__name__, root_path=os.path.dirname(os.path.abspath(__file__)))
    app.config.update(
        SECRET_KEY=os.environ.get("SECRET_KEY", ""),
        LMS_URL_PREFIX="/training",
        LMS_DATABASE_URI=os.environ.get("DATABASE_URL", "sqlite:///host-app.sqlite3"),
        LMS_AUTO_UPGRADE=True,
        LMS_SITE_NAME="Clinic peer training",
    )
    app.config.update(config or {})
    if not app.config["SECRET_KEY"]:
        raise RuntimeError("Set SECRET_KEY for the host app.")

    @app.route("/")
    def home():
        return render_template_string(
            "<h1>Riverside Clinic</h1><p><a href='{{ url_for('lms_home.index') }}'>"
            "Peer supporter training</a></p>")

    lms.init_app(app)
    return app


if __name__ == "__main__":
    create_host_app().run()
