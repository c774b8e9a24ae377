"""The trainer's view of a cohort's readiness: who is shown, each trainee's status, and the
CSV export. Presentation of ``lms.services.readiness``'s result, kept out of the views; the
rules themselves (what is met, what is left) stay in that module.

The CSV says each thing left to do in plain English (the trainee's pages say it through the
templates in ``lms/_readiness.html``, translated); a spreadsheet is a machine format, so
figures, dates and words here are not localised.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from collections.abc import Iterable, Sequence
from datetime import date, datetime
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from lms.models import Cohort
from lms.services import standards
from lms.services.cohort_grid import neutralise
from lms.services.readiness import ATTENDANCE, Readiness, Todo

# Who the page shows: everyone (withdrawn trainees marked), or the active trainees who are
# ready, or not ready, the same split as ``readiness.ready_counts``.
SHOWS = ("all", "ready", "not_ready")

# A trainee's status, most telling first: a withdrawal, then the latest sign-off decision
# (it stands until the next one), then what the criteria say today.
WITHDRAWN, REVOKED, SIGNED_OFF, DEFERRED, READY, NOT_READY = (
    "withdrawn", "revoked", "signed_off", "deferred", "ready", "not_ready")

CRITERION_TITLES = {
    "attendance": "Attendance", "core_sessions": "Core sessions",
    "quizzes": "Core module quizzes", "agreements": "Agreements signed",
    "supervision": "Supervision", "competencies": "Observed practice",
}
RATING_WORDS = {"not_yet": "not yet", "developing": "developing", "competent": "competent"}


def shown(rows: Iterable[Readiness], show: str) -> list[Readiness]:
    """The rows ``show`` asks for; an unknown value shows everyone."""
    rows = list(rows)
    if show == "ready":
        return [r for r in rows if r.ready and not r.withdrawn]
    if show == "not_ready":
        return [r for r in rows if not r.ready and not r.withdrawn]
    return rows


def criteria_of(rows: Sequence[Readiness]) -> list[str]:
    """The criteria the cohort's policy judges, in the service's order (core sessions only
    when the policy requires them)."""
    for row in rows:
        if row.policy is not None:
            return [c.key for c in row.criteria]
    return []


def status(row: Readiness) -> str:
    if row.withdrawn:
        return WITHDRAWN
    decision = row.latest_sign_off.decision if row.latest_sign_off else None
    if decision == "revoke":
        return REVOKED
    if decision == "deploy":
        return SIGNED_OFF
    if decision == "defer":
        return DEFERRED
    return READY if row.ready else NOT_READY


def sign_off_day(row: Readiness) -> date | None:
    """The day of the latest sign-off in the cohort's zone (stored instants are UTC)."""
    sign_off = row.latest_sign_off
    if sign_off is None:
        return None
    return _local_day(sign_off.created_at, row.cohort.timezone)


def _local_day(at: datetime, zone: str | None) -> date:
    try:
        tz = ZoneInfo(zone or "UTC")
    except (ZoneInfoNotFoundError, ValueError):
        tz = ZoneInfo("UTC")
    if at.tzinfo is None:
        at = at.replace(tzinfo=ZoneInfo("UTC"))
    return at.astimezone(tz).date()


def _day(value: object) -> str:
    if isinstance(value, datetime | date):
        return value.isoformat()[:10]
    return str(value or "")


def _more_minutes(count: int) -> str:
    return f"{count} more minute" if count == 1 else f"{count} more minutes"


def todo_text(todo: Todo) -> str:
    """One thing left to do in plain English, for a spreadsheet."""
    p = todo.params
    kind = todo.kind
    if kind == "attend_minutes":
        return (f"attend {_more_minutes(p['minutes'])} "
                f"to reach {standards.shown_percent(p['minimum_percent'])}%")
    if kind == "attend_sessions":
        return "attend training sessions (none counted yet)"
    if kind == "make_up":
        return f"make up session '{p['title']}' of {_day(p['on'])}"
    if kind == "pass_quiz":
        return f"pass the quiz on '{p['title']}'"
    if kind == "retake_stale":
        return (f"retake the quiz on '{p['title']}' (the pass of {_day(p['passed_on'])} is "
                f"more than {p['months']} months old)")
    if kind == "sign":
        return f"sign the {p['title']}"
    if kind == "sign_new_version":
        return f"sign the new version of the {p['title']}"
    if kind == "supervision_sessions":
        count = p["count"]
        return f"have {count} more supervision session{'' if count == 1 else 's'}"
    if kind == "supervision_minutes":
        return f"have {_more_minutes(p['minutes'])} of supervision"
    if kind == "competency":
        required = RATING_WORDS.get(p["required"], p["required"])
        rating = p.get("rating")
        seen = f"rated {RATING_WORDS.get(rating, rating)}" if rating else "not rated yet"
        return f"be observed in '{p['title']}' ({seen}, {required} needed)"
    return kind


def _attendance_percent(row: Readiness) -> float | None:
    found = row.criterion(ATTENDANCE)
    return found.evidence.get("percent") if found else None


def readiness_csv(rows: Iterable[Readiness], criteria: Sequence[str]) -> str:
    """Every row with its criteria (met yes/no), attendance, what is left and the latest
    sign-off, as CSV text starting with a byte-order mark (so spreadsheets read accents);
    formula-like cells are neutralised."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    header = ["Name", "Email", "Ready"]
    header += [f"{CRITERION_TITLES.get(key, key)}: met" for key in criteria]
    header += ["Attendance %", "To do", "Status", "Latest sign-off", "Sign-off date",
               "Review on"]
    writer.writerow([neutralise(h) for h in header])
    for row in rows:
        met = {c.key: c.met for c in row.criteria}
        sign_off = row.latest_sign_off
        line: list[object] = [row.person.name, row.person.email, "yes" if row.ready else "no"]
        line += ["yes" if met.get(key) else "no" for key in criteria]
        line += [standards.shown_percent(_attendance_percent(row)),
                 "; ".join(todo_text(t) for t in row.todo),
                 status(row).replace("_", " "),
                 sign_off.decision if sign_off else "",
                 _day(sign_off_day(row)),
                 _day(sign_off.review_on) if sign_off and sign_off.review_on else ""]
        writer.writerow([neutralise(cell) for cell in line])
    return out.getvalue()


def csv_filename(cohort: Cohort) -> str:
    """``<cohort-slug>-readiness.csv``: the cohort's name in plain ASCII letters and digits
    (safe in a header), else its id."""
    ascii_name = unicodedata.normalize("NFKD", cohort.name or "").encode("ascii", "ignore")
    slug = re.sub(r"[^a-z0-9]+", "-", ascii_name.decode().lower()).strip("-")[:60].strip("-")
    return f"{slug or f'cohort-{cohort.id}'}-readiness.csv"
