"""Invitation and reset links as the web sees them: their URLs, their lifetime from config, and
mailing them when mail is configured."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import timedelta

from flask import Response, current_app
from flask_babel import gettext as _

from lms import mail
from lms.services import invitations
from lms.web.addresses import external_url


def link_url(token: str) -> str:
    return external_url("lms_auth.accept_invitation", token=token)


def valid_for(purpose: str) -> timedelta | None:
    """How long a new link works; None when lms has no passwords of its own (a host app's
    users log in through the host, so nobody needs a link)."""
    from lms.web.access import uses_own_accounts

    if not uses_own_accounts():
        return None
    key = "LMS_PASSWORD_RESET_VALID_HOURS" if purpose == invitations.RESET \
        else "LMS_INVITATION_VALID_HOURS"
    return timedelta(hours=float(current_app.config[key]))


def mail_plan(links: Sequence[invitations.IssuedLink], purpose: str) -> list[mail.Message]:
    """The email for each person's link, when mail is configured and the batch is small
    enough; empty otherwise (then the links are handed out on screen or as a CSV)."""
    app = current_app
    if not links or not mail.configured(app) or \
            len(links) > int(app.config["LMS_MAIL_MAX_PER_REQUEST"]):
        return []
    site = app.config["LMS_SITE_NAME"]
    messages = []
    for link in links:
        if purpose == invitations.RESET:
            subject = _("Choose a new password for %(site)s", site=site)
            intro = _("Someone asked to reset the password of your account. If it was not you, "
                      "ignore this message: your password stays the same.")
        elif link.person.stands_in:  # the address has an account (lms.services.joining)
            subject = _("You have been enrolled on %(site)s", site=site)
            intro = _("A trainer enrolled this address in a training cohort on %(site)s, where "
                      "you already have an account. To join, log in with it, then open this "
                      "link. If you do not want to join, ignore this message: the trainer "
                      "sees only the name and address they typed.", site=site)
        else:
            subject = _("Your account for %(site)s", site=site)
            intro = _("You have been given an account for %(site)s. Open this link to choose "
                      "your password and log in.", site=site)
        body = "\n\n".join([
            _("Hello %(name)s,", name=link.person.name), intro, link_url(link.token),
            _("The link works once, until %(when)s UTC.",
              when=link.expires_at.strftime("%Y-%m-%d %H:%M"))])
        messages.append(mail.Message(link.person.email, subject, body))
    return messages


def send_after(response: Response, messages: list[mail.Message]) -> Response:
    """Send ``messages`` once ``response`` has gone: the page never waits on the mail server,
    and a reset request takes as long whether or not the address has an account."""
    if messages:
        app = current_app._get_current_object()  # type: ignore[attr-defined]

        def send() -> None:
            try:
                mail.send(app, messages)
            except mail.MailError:
                app.logger.exception("lms could not send %d emails", len(messages))

        response.call_on_close(send)
    return response
