"""Reports: the progress grid (page and CSV), item statistics, session feedback."""

from __future__ import annotations

from typing import NamedTuple

from flask import Response, abort, render_template, request
from flask_babel import gettext as _
from markupsafe import Markup, escape

from lms.models import Cohort
from lms.models.people import ADMIN
from lms.services import agenda, audit, catalogue, cohort_grid, feedback, item_statistics
from lms.web.access import current_person, db_session, roles_required
from lms.web.formatting import lms_percent
from lms.web.trainer import STAFF, bp, managed_cohort, query_choice


class CellWords(NamedTuple):
    """The module cells' words in the viewer's language, translated and escaped once a page."""

    passed: str
    read: str
    not_read: str
    attempts: str


def cell_words() -> CellWords:
    return CellWords(*(str(escape(word)) for word in (
        _("passed"), _("read"), _("not read"), _("attempts"))))


def module_cells(row: cohort_grid.GridRow, words: CellWords,
                 percents: dict[float | None, str] | None = None) -> Markup:
    """A trainee's module cells as one piece of HTML, in the modules' order; a cell's look
    comes from its class (CSS). Built here rather than in a Jinja loop, as the attendance
    page's cells are: a cohort of 200 has well over a thousand, and the loop's escaping and
    attribute look-ups cost more than working the cells out. Only escaped words, escaped
    percentages and whole numbers go in. ``percents``, shared by a page's rows, keeps each
    score's escaped text: a cohort's scores repeat, and formatting one costs more than a
    look-up."""
    if percents is None:
        percents = {}
    out = []
    for cell in row.cells.values():
        done = cell.done
        if done:
            text = f'<td class="ok"><b>{words.passed if cell.passed else words.read}</b>'
        elif cell.read:
            text = f'<td class="info"><b>{words.read}</b>'
        else:
            text = f'<td class="none"><b>{words.not_read}</b>'
        if cell.attempts:
            score = percents.get(cell.best_score)
            if score is None:
                score = percents[cell.best_score] = str(escape(lms_percent(cell.best_score)))
            text += f"<br>{score} · {words.attempts}: {int(cell.attempts)}"
            if cell.passed and not done:
                text += f" · {words.passed}"
        out.append(text + "</td>")
    return Markup("".join(out))  # noqa: S704 (escaped words and figures, whole numbers)


@bp.route("/<id:cohort_id>/grid")
@roles_required(*STAFF)
def grid(cohort_id: int):
    found = managed_cohort(cohort_id)
    result, sort, show = _grid_of(found)
    words, percents = cell_words(), {}
    rows = [(row, module_cells(row, words, percents)) for row in result.rows]
    return render_template("lms/trainer/grid.html", cohort=found, grid=result, rows=rows,
                           sort=sort, show=show)


def _grid_of(cohort: Cohort) -> tuple[cohort_grid.Grid, str, str]:
    """The grid in the order and filter the query string asks for (unknown values fall back),
    for the page and its CSV alike."""
    sort = query_choice("sort", cohort_grid.SORTS)
    show = query_choice("show", cohort_grid.SHOWS)
    result = cohort_grid.cohort_grid(db_session(), cohort, sort=sort, show=show)
    return result, sort, show


@bp.route("/<id:cohort_id>/grid.csv")
@roles_required(*STAFF)
def grid_csv(cohort_id: int):
    """The rows the grid shows with the same order and filter (everyone by default)."""
    found = managed_cohort(cohort_id)
    result, _sort, show = _grid_of(found)
    suffix = "" if show == "all" else f"-{show}"
    text = cohort_grid.grid_csv(result)
    session = db_session()  # the export is an event in the audit log
    audit.record(session, current_person().id, audit.CSV_EXPORT, "cohort_grid", found.id,
                 detail={"rows": len(result.rows)})
    session.commit()
    return Response(text, mimetype="text/csv",
                    headers={"Content-Disposition":
                             f'attachment; filename="cohort-{found.id}-grid{suffix}.csv"'})


@bp.route("/<id:cohort_id>/statistics/<slug>")
@roles_required(*STAFF)
def cohort_statistics(cohort_id: int, slug: str):
    return _statistics(slug, managed_cohort(cohort_id))


@bp.route("/statistics/<slug>")
@roles_required(ADMIN)
def statistics(slug: str):
    """Over every cohort: admins only, since a trainer sees only their own cohorts' trainees."""
    return _statistics(slug, None)


def _statistics(slug: str, cohort: Cohort | None):
    session = db_session()
    module = catalogue.quiz_module(session, slug)
    if module is None:
        abort(404, description=_("There is no quiz for that module."))
    if cohort is not None and module.curriculum_id != cohort.curriculum_id:
        abort(404, description=_("That quiz is not part of this cohort's curriculum."))
    first_only = request.args.get("attempts") != "all"
    result = item_statistics.quiz_statistics(session, module.quiz,
                                             cohort_id=cohort.id if cohort else None,
                                             first_only=first_only)
    return render_template("lms/trainer/statistics.html", cohort=cohort, module=module,
                           stats=result, minimum=item_statistics.MIN_ATTEMPTS_FOR_FLAGS)


@bp.route("/<id:cohort_id>/feedback")
@roles_required(*STAFF)
def cohort_feedback(cohort_id: int):
    found = managed_cohort(cohort_id)
    session = db_session()
    return render_template("lms/trainer/feedback.html", cohort=found,
                           sessions=agenda.agenda(session, found.id),
                           ratings=feedback.per_session(session, found.id),
                           facilitators=feedback.per_facilitator(session, found.id),
                           comments=feedback.comments(session, found.id))
