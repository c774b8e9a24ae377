"""Debriefs after a critical incident, started and read by the trainee."""

from __future__ import annotations

from lms.web.trainee import bp  # noqa: F401
