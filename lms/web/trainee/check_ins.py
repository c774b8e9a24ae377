"""Self-care check-ins: the form, and the history with its chart."""

from __future__ import annotations

from lms.web.trainee import bp  # noqa: F401
