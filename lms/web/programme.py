"""The programme's settings as the supervision pages read them: its zone and "today" there,
the edit window of records, and the flags' settings. One place, so the supervisor's, trainer's
and trainee's pages agree on what day it is."""

from __future__ import annotations

from datetime import date

from flask import current_app

from lms.services import flags
from lms.services.time_zones import local_today


def zone() -> str:
    return current_app.config["LMS_TIMEZONE"]


def today() -> date:
    """Today in the programme's zone (LMS_TIMEZONE): the day supervision, check-ins and flags
    use."""
    return local_today(zone())


def edit_window_days() -> int:
    return int(current_app.config["LMS_RECORD_EDIT_WINDOW_DAYS"])


def flag_settings() -> flags.Settings:
    config = current_app.config
    return flags.Settings(zone=zone(),
                          supervision_every_days=config["LMS_SUPERVISION_EVERY_DAYS"],
                          check_in_every_days=config["LMS_CHECK_IN_EVERY_DAYS"])
