"""The standalone app (lms/app.py): what it does at start-up for a serving process."""

from __future__ import annotations

import gc

from lms import app as standalone
from lms import create_app


def test_a_serving_app_moves_start_up_objects_out_of_the_collector_s_reach(tmp_path,
                                                                          monkeypatch):
    """So a full collection does not walk every module and model in the middle of a request;
    once per process, and never for a test's app."""
    monkeypatch.setattr(standalone, "_frozen", False)
    gc.unfreeze()
    try:
        create_app({"SECRET_KEY": "x", "TESTING": True,
                    "LMS_DATABASE_URI": f"sqlite:///{tmp_path}/a.db"})
        assert gc.get_freeze_count() == 0  # tests make an app each: nothing may pile up
        create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": f"sqlite:///{tmp_path}/b.db"})
        assert gc.get_freeze_count() > 0
        gc.unfreeze()
        create_app({"SECRET_KEY": "x", "LMS_DATABASE_URI": f"sqlite:///{tmp_path}/c.db"})
        assert gc.get_freeze_count() == 0  # the second app in the process freezes nothing
    finally:
        gc.unfreeze()
