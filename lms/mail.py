"""Sending mail: the standard library's smtplib and email, configured by ``LMS_MAIL_*``.

Mail is optional. Without ``LMS_MAIL_SERVER`` nothing is sent: trainers hand out invitation
links on screen or as a CSV, and an admin issues a new link when someone forgets their
password. ``LMS_MAIL_BACKEND = "memory"`` keeps messages in ``outbox(app)`` instead (tests, and
a host that wants to send them its own way).
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Iterable
from dataclasses import dataclass

from flask import Flask


@dataclass(frozen=True)
class Message:
    to: str
    subject: str
    body: str


class MailError(RuntimeError):
    """The mail server could not be reached or refused the message."""


def configured(app: Flask) -> bool:
    return app.config.get("LMS_MAIL_BACKEND") == "memory" or \
        bool(app.config.get("LMS_MAIL_SERVER"))


def outbox(app: Flask) -> list[Message]:
    return app.extensions.setdefault("lms_outbox", [])


def send(app: Flask, messages: Iterable[Message]) -> int:
    """Send ``messages`` over one connection; returns how many were sent."""
    messages = list(messages)
    if not messages or not configured(app):
        return 0
    config = app.config
    if config.get("LMS_MAIL_BACKEND") == "memory":
        outbox(app).extend(messages)
        return len(messages)
    from email.message import EmailMessage

    sender = config.get("LMS_MAIL_SENDER") or f"no-reply@{config['LMS_MAIL_SERVER']}"
    try:
        connection_class = smtplib.SMTP_SSL if config.get("LMS_MAIL_USE_SSL") else smtplib.SMTP
        with connection_class(config["LMS_MAIL_SERVER"], int(config.get("LMS_MAIL_PORT") or 25),
                              timeout=10) as smtp:
            if config.get("LMS_MAIL_USE_TLS") and not config.get("LMS_MAIL_USE_SSL"):
                smtp.starttls(context=ssl.create_default_context())
            if config.get("LMS_MAIL_USERNAME"):
                smtp.login(config["LMS_MAIL_USERNAME"], config.get("LMS_MAIL_PASSWORD") or "")
            for message in messages:
                email = EmailMessage()
                email["From"], email["To"], email["Subject"] = sender, message.to, message.subject
                email.set_content(message.body)
                smtp.send_message(email)
    except (OSError, smtplib.SMTPException) as exc:
        raise MailError(str(exc)) from exc
    return len(messages)
