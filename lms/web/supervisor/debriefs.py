"""Supervisor pages: debriefs."""

from __future__ import annotations

from lms.web.supervisor import bp  # noqa: F401
