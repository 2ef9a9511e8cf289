"""Sending e-mail (password-reset links) through the SMTP server the settings name.

Called from a worker thread (a sync handler), never on the event loop: a slow mail server must not
hold up contestants saving answers.
"""

from __future__ import annotations

import smtplib
import ssl
from email.message import EmailMessage

from contest.settings import Settings

TIMEOUT_SECONDS = 20


def mail_configured(settings: Settings) -> bool:
    """Whether this installation can send e-mail at all."""
    return bool(settings.smtp_host and settings.smtp_from)


def send_mail(settings: Settings, *, to: str, subject: str, body: str) -> None:
    """Send one plain-text message; raises OSError or smtplib.SMTPException when the server refuses."""
    message = EmailMessage()
    message["From"], message["To"], message["Subject"] = settings.smtp_from, to, subject
    message.set_content(body)
    if settings.smtp_tls == "ssl":
        server = smtplib.SMTP_SSL(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS,
                                  context=ssl.create_default_context())
    else:
        server = smtplib.SMTP(settings.smtp_host, settings.smtp_port, timeout=TIMEOUT_SECONDS)
    with server:
        if settings.smtp_tls == "starttls":
            server.starttls(context=ssl.create_default_context())
        if settings.smtp_user:
            server.login(settings.smtp_user, settings.smtp_password)
        server.send_message(message)
