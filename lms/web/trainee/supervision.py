"""My supervision: records I attended, my reflections, actions agreed."""

from __future__ import annotations

from lms.web.trainee import bp  # noqa: F401
