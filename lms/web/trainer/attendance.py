"""The whole cohort's attendance (page and CSV): trainees by sessions, like Moodle's report."""

from __future__ import annotations

from flask import Response, render_template
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lms.models import Cohort
from lms.models.agenda import ABSENT, EXCUSED, LATE, LEFT_EARLY, PRESENT
from lms.services import attendance_report, audit
from lms.services.attendance_report import CANCELLED, MADE_UP, NOT_COUNTED, UNMARKED
from lms.web.access import current_person, db_session, roles_required
from lms.web.trainer import STAFF, bp, managed_cohort, query_choice

# A cell's class: one letter, so 8,000 cells stay small; the colour is in lms.css and the
# letter inside the cell says the same thing.
CLASSES = {PRESENT: "", LATE: "l", LEFT_EARLY: "l", ABSENT: "a", EXCUSED: "x", MADE_UP: "m",
           UNMARKED: "u", NOT_COUNTED: "n", CANCELLED: "n"}


def _codes() -> dict[str, str]:
    """Each kind's code in the viewer's language (translated once per page, not per cell)."""
    return {PRESENT: _("P"), LATE: _("L"), LEFT_EARLY: _("E"), ABSENT: _("A"),
            EXCUSED: _("X"), MADE_UP: _("M"), UNMARKED: "?", NOT_COUNTED: "–",
            CANCELLED: "–"}


def cell_markup(codes: dict[str, str]) -> tuple[dict[str, str], dict[str, str]]:
    """Each kind's whole cell, and each kind's opening for a cell with minutes, escaped once."""
    opening = {kind: f"<td class={cls}>" if cls else "<td>" for kind, cls in CLASSES.items()}
    whole = {kind: f"{opening[kind]}{escape(codes[kind])}</td>" for kind in CLASSES}
    return whole, {kind: f"{opening[kind]}{escape(codes[kind])}" for kind in CLASSES}


def row_cells(row: attendance_report.Row, whole: dict[str, str],
              start: dict[str, str]) -> Markup:
    """A row's session cells as one piece of HTML. Built here rather than in a Jinja loop: a
    cohort of 200 trainees and 40 sessions has 8,000 cells, and the loop was most of the
    page's time. Only the escaped codes and whole numbers go in."""
    cells = [whole[kind] if minutes is None else f"{start[kind]}{int(minutes)}</td>"
             for kind, minutes in row.cells]
    return Markup("".join(cells))  # noqa: S704 (escaped codes and integers only)


def _report_of(cohort: Cohort) -> tuple[attendance_report.Report, str, str]:
    """The report in the order and filter the query string asks for (unknown values fall
    back), for the page and its CSV alike."""
    sort = query_choice("sort", attendance_report.SORTS)
    show = query_choice("show", attendance_report.SHOWS)
    report = attendance_report.attendance_report(db_session(), cohort, sort=sort, show=show)
    return report, sort, show


@bp.route("/<id:cohort_id>/attendance")
@roles_required(*STAFF)
def cohort_attendance(cohort_id: int):
    found = managed_cohort(cohort_id)
    report, sort, show = _report_of(found)
    codes = _codes()
    whole, start = cell_markup(codes)
    rows = [(row, row_cells(row, whole, start)) for row in report.rows]
    return render_template("lms/trainer/attendance.html", cohort=found, report=report,
                           rows=rows, codes=codes, sort=sort, show=show)


@bp.route("/<id:cohort_id>/attendance.csv")
@roles_required(*STAFF)
def cohort_attendance_csv(cohort_id: int):
    """The rows the page shows, in the same order and filter. The export is audited."""
    found = managed_cohort(cohort_id)
    report, _sort, show = _report_of(found)
    text = attendance_report.report_csv(report)
    session = db_session()
    audit.record(session, current_person().id, audit.CSV_EXPORT, "cohort_attendance", found.id,
                 detail={"rows": len(report.rows)})
    session.commit()
    suffix = "" if show == "all" else f"-{show}"
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": f'attachment; filename="cohort-{found.id}-attendance{suffix}.csv"',
        "Cache-Control": "no-store"})
