"""The trainee's certificates: each with its status, code and verify link, and the PDF.

PDFs need the optional ``pdf`` extra (WeasyPrint); without it the page says how to enable
them, the PDF route answers 503 with that message, and the public verify page still works.
"""

from __future__ import annotations

from flask import Response, abort, current_app, render_template
from flask_babel import get_locale
from flask_babel import gettext as _

from lms.models.people import TRAINEE
from lms.services import certificates
from lms.web import credentials
from lms.web.access import current_person, db_session, roles_required
from lms.web.programme import today, zone
from lms.web.trainee import bp
from lms.web.verify import certificates_folder, verify_url


@bp.route("/my/certificates")
@roles_required(TRAINEE)
def my_certificates():
    session = db_session()
    found = certificates.certificates_of(session, current_person().id)
    return render_template("lms/trainee/certificates.html", certificates=found,
                           statuses=certificates.statuses(session, found, today(), zone()),
                           grouped=certificates.grouped, verify_url=verify_url,
                           pdf_available=certificates.pdf_available(),
                           pdf_hint=certificates.PDF_INSTALL_HINT)


@bp.route("/my/certificates/<id:certificate_id>.pdf")
@roles_required(TRAINEE)
def certificate_pdf(certificate_id: int):
    found = certificates.own_certificate(db_session(), current_person().id, certificate_id)
    if found is None:  # someone else's is answered like a missing one
        abort(404, description=_("There is no such certificate of yours."))
    try:
        html = certificates.render_html(found, verify_url=verify_url(found.code),
                                        template_folder=certificates_folder(),
                                        locale=str(get_locale() or "en"))
        pdf = certificates.render_pdf(html, attachments=credentials.pdf_attachments(found))
    except certificates.PdfUnavailable as exc:
        return render_template("lms/error.html", code=503, description=str(exc)), 503
    except certificates.CertificateTemplateError:
        current_app.logger.exception("The certificate template could not be used")
        return render_template("lms/error.html", code=503, description=_(
            "Your certificate cannot be made as a PDF at the moment: its template has a "
            "problem. Tell your trainer; your verify link works meanwhile.")), 503
    filename = f"certificate-{certificates.grouped(found.code)}.pdf"
    return Response(pdf, mimetype="application/pdf",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"',
                             "Cache-Control": "private, no-store"})
