"""The audit log for admins: filter, page through and export events. Read-only: no route
edits or deletes an event (the log is append-only)."""

from __future__ import annotations

from flask import Response, render_template, request
from flask_babel import lazy_gettext as _l

from lms.models.people import ADMIN
from lms.services import audit
from lms.web import programme
from lms.web.access import current_person, db_session, roles_required
from lms.web.admin import bp

# The names of the kinds of event, as the filter and the table show them.
ACTION_LABELS = {
    audit.READ: _l("Read"), audit.SIGN_OFF: _l("Sign-off"), audit.OVERRIDE: _l("Override"),
    audit.RATING: _l("Competency rating"), audit.REVOCATION: _l("Revocation"),
    audit.ROLE_CHANGE: _l("Role change"), audit.SUPERVISOR_CHANGE: _l("Supervisor change"),
    audit.ATTENDANCE_CORRECTION: _l("Attendance correction"),
    audit.CSV_EXPORT: _l("CSV export"), audit.PASSWORD_RESET: _l("Password reset by an admin"),
    audit.CERTIFICATE: _l("Certificate"),
    audit.JOIN: _l("Joined a cohort from an invitation"),
    audit.API_CALL: _l("API call"), audit.API_CLIENT: _l("API token issued or revoked"),
}


@bp.route("/audit")
@roles_required(ADMIN)
def audit_log():
    """Events newest first, 50 a page; a filter value that cannot be used is named at the top
    and left out (status 400), never an error page."""
    filters, page, problems = audit.parse_filters(request.args)
    found = audit.list_events(db_session(), filters, zone=programme.zone(), page=page,
                              per_page=audit.PER_PAGE)
    return render_template("lms/admin/audit.html", page=found, filters=filters,
                           problems=problems, args=filters.query_args(), labels=ACTION_LABELS,
                           raw=request.args, lms_zone=programme.zone()), 400 if problems else 200


@bp.route("/audit.csv")
@roles_required(ADMIN)
def audit_csv():
    """Every event the filters match (no paging). The export is itself an event."""
    session = db_session()
    filters, _page, _problems = audit.parse_filters(request.args)
    text, rows = audit.events_csv(session, filters, zone=programme.zone())
    audit.record(session, current_person().id, audit.CSV_EXPORT, "audit_log",
                 detail={"rows": rows})
    session.commit()
    return Response(text, mimetype="text/csv", headers={
        "Content-Disposition": 'attachment; filename="audit-log.csv"',
        "Cache-Control": "no-store"})
