"""Readiness for trainers: the cohort's readiness grid (page and CSV). Read-only: sign-off is
the supervisor's, and trainers never see supervision notes, so nothing here links to them."""

from __future__ import annotations

from flask import Response, render_template

from lms.models import Cohort
from lms.services import audit, readiness, readiness_report, standards
from lms.web import programme
from lms.web.access import current_person, db_session, roles_required
from lms.web.trainer import STAFF, bp, managed_cohort, query_choice


def _rows_of(cohort: Cohort) -> list[readiness.Readiness]:
    return readiness.cohort_readiness(db_session(), cohort, today=programme.today())


def _has_policy(cohort: Cohort, rows: list[readiness.Readiness]) -> bool:
    if rows:
        return rows[0].policy is not None
    # Nobody enrolled yet: ask directly (one query, whatever the cohort's size).
    return standards.current_policy(db_session(), cohort.curriculum_id) is not None


@bp.route("/<id:cohort_id>/readiness")
@roles_required(*STAFF)
def cohort_readiness(cohort_id: int):
    found = managed_cohort(cohort_id)
    show = query_choice("show", readiness_report.SHOWS)
    rows = _rows_of(found)
    return render_template(
        "lms/trainer/readiness.html", cohort=found, show=show,
        has_policy=_has_policy(found, rows), counts=readiness.ready_counts(rows),
        criteria=readiness_report.criteria_of(rows), rows=readiness_report.shown(rows, show),
        status=readiness_report.status, sign_off_day=readiness_report.sign_off_day)


@bp.route("/<id:cohort_id>/readiness.csv")
@roles_required(*STAFF)
def cohort_readiness_csv(cohort_id: int):
    """Every trainee (the filter is the page's, not the export's). The export is audited."""
    found = managed_cohort(cohort_id)
    session = db_session()
    rows = _rows_of(found)
    text = readiness_report.readiness_csv(rows, readiness_report.criteria_of(rows))
    audit.record(session, current_person().id, audit.CSV_EXPORT, "readiness", found.id, None,
                 {"rows": len(rows)})
    session.commit()
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition":
            f'attachment; filename="{readiness_report.csv_filename(found)}"',
        "Cache-Control": "no-store"})
