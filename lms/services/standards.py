"""The minimum standards a programme sets, as data: one ``standards.yaml`` per curriculum,
validated by ``lms.content.standards`` and versioned by ``content_sync`` into
``StandardsPolicy`` rows. Nothing here is a constant in code: every number comes from a policy.

``Policy`` is the typed view of a version's ``rules`` (the JSON the loader writes):

    attendance:   minimum_percent, core_sessions (every core session attended or made up)
    quizzes:      modules (core modules whose quizzes must be passed), pass_mark (None: each
                  quiz's own), valid_for_months (None: a pass never goes stale)
    agreements:   keys of the agreements to sign (texts in the curriculum's agreements/)
    supervision:  minimum_sessions, minimum_hours before deployment; every_days (flags)
    check_ins:    every_days (flags)
    competencies: key, title, descriptor, required (developing | competent)
    recertify_after_months: when a deploy sign-off is due again (None: never)
"""

from __future__ import annotations

import calendar
import math
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from sqlalchemy.orm import Session

from lms.models import StandardsPolicy
from lms.services.content_cache import content

NOT_YET = "not_yet"
DEVELOPING = "developing"
COMPETENT = "competent"
RATINGS: tuple[str, ...] = (NOT_YET, DEVELOPING, COMPETENT)  # in order, worst first


def add_months(day: date, months: int) -> date:
    """The same day ``months`` later (or earlier, when negative), or that month's last day:
    31 Jan + 1 is 28/29 Feb. Freshness and re-certification both count months this way."""
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    return date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def shown_percent(value: float | None) -> str:
    """A percentage as every page and export shows it: cut (not rounded) to one decimal, so a
    figure below a threshold never shows as the threshold (79.96 is "79.9", not "80");
    whole numbers without ".0". "" for no figure."""
    if value is None:
        return ""
    cut = math.floor(value * 10 + 1e-9) / 10
    return f"{cut:.0f}" if cut == int(cut) else f"{cut:.1f}"


def rating_meets(rating: str | None, required: str) -> bool:
    """Whether a rating reaches the one required (competent meets developing)."""
    if rating not in RATINGS:
        return False
    return RATINGS.index(rating) >= RATINGS.index(required)


@dataclass(frozen=True)
class Competency:
    key: str
    title: str
    descriptor: str
    required: str = COMPETENT


@dataclass(frozen=True)
class Policy:
    minimum_attendance_percent: float
    core_sessions_required: bool
    quiz_modules: tuple[str, ...]
    pass_mark: int | None
    quiz_valid_for_months: int | None
    agreements: tuple[str, ...]
    minimum_supervision_sessions: int
    minimum_supervision_hours: float
    supervision_every_days: int | None
    check_in_every_days: int | None
    competencies: tuple[Competency, ...] = field(default_factory=tuple)
    recertify_after_months: int | None = None

    @classmethod
    def from_rules(cls, rules: dict[str, Any]) -> Policy:
        attendance = rules.get("attendance") or {}
        quizzes = rules.get("quizzes") or {}
        supervision = rules.get("supervision") or {}
        check_ins = rules.get("check_ins") or {}
        return cls(
            minimum_attendance_percent=float(attendance.get("minimum_percent", 0)),
            core_sessions_required=bool(attendance.get("core_sessions", False)),
            quiz_modules=tuple(quizzes.get("modules") or ()),
            pass_mark=quizzes.get("pass_mark"),
            quiz_valid_for_months=quizzes.get("valid_for_months"),
            agreements=tuple(rules.get("agreements") or ()),
            minimum_supervision_sessions=int(supervision.get("minimum_sessions", 0)),
            minimum_supervision_hours=float(supervision.get("minimum_hours", 0)),
            supervision_every_days=supervision.get("every_days"),
            check_in_every_days=check_ins.get("every_days"),
            competencies=tuple(Competency(c["key"], c.get("title", c["key"]),
                                          c.get("descriptor", ""),
                                          c.get("required", COMPETENT))
                               for c in rules.get("competencies") or ()),
            recertify_after_months=rules.get("recertify_after_months"),
        )


def current_policies(session: Session, curriculum_ids: Iterable[int]
                     ) -> dict[int, StandardsPolicy]:
    """Each curriculum's current policy version (curricula without a standards file are left
    out), from the content cache."""
    known = content(session)
    found = ((cid, known.policy(cid)) for cid in set(curriculum_ids))
    return {cid: policy for cid, policy in found if policy is not None}


def current_policy(session: Session, curriculum_id: int) -> StandardsPolicy | None:
    return current_policies(session, [curriculum_id]).get(curriculum_id)
