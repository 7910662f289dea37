"""How messages leave: e-mail over SMTP, SMS through a provider's HTTP API.

Credentials come only from the environment, never from the service file or the repository:

=========================  ===============================================================
``RUFBUS_SMTP_USER``       SMTP login (with ``RUFBUS_SMTP_PASSWORD``); unset: no login
``RUFBUS_SMTP_PASSWORD``   SMTP password
``RUFBUS_SMS_TOKEN``       the SMS provider's token, sent as ``Authorization: Bearer ...``
=========================  ===============================================================

The SMS adapter speaks the simplest provider API there is: ``POST`` of
``{"to": "+4915...", "text": "...", "sender": "..."}`` as JSON to ``[notifications]
sms_url``; any 2xx answer means accepted. A provider with another format needs only another
:class:`Sender`.

Errors (:class:`DeliveryError`) say what failed without the address or the text: they are
stored in the outbox and logged.
"""

from __future__ import annotations

import json
import os
import smtplib
import urllib.error
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import formataddr, make_msgid
from typing import Protocol

from planner.service import NotificationRule

#: Seconds to wait for a mail or SMS server.
TIMEOUT_S = 15.0


class DeliveryError(Exception):
    """A message could not be handed over (the text names no address and no content)."""


class Sender(Protocol):
    """Hands one message to its channel, or raises :class:`DeliveryError`."""

    def send(self, address: str, subject: str, text: str) -> None:
        """Send ``text`` (with ``subject`` where the channel has one) to ``address``."""
        ...


@dataclass(frozen=True, slots=True)
class SmtpSender:
    """E-mail through an SMTP server (plain, or STARTTLS; login if a user is set)."""

    host: str
    port: int
    from_address: str
    sender_name: str
    starttls: bool = False
    user: str = ""
    password: str = ""
    timeout_s: float = TIMEOUT_S

    def send(self, address: str, subject: str, text: str) -> None:
        """Send one plain-text e-mail to ``address``."""
        mail = EmailMessage()
        mail["From"] = formataddr((self.sender_name, self.from_address))
        mail["To"] = address
        mail["Subject"] = subject
        mail["Message-ID"] = make_msgid(domain=self.from_address.rpartition("@")[2] or None)
        mail.set_content(text)
        try:
            with smtplib.SMTP(self.host, self.port, timeout=self.timeout_s) as smtp:
                if self.starttls:
                    smtp.starttls()
                if self.user:
                    smtp.login(self.user, self.password)
                smtp.send_message(mail)
        except smtplib.SMTPRecipientsRefused as exc:
            codes = sorted({code for code, _ in exc.recipients.values()})
            raise DeliveryError(f"SMTP refused the recipient ({codes})") from None
        except smtplib.SMTPResponseException as exc:
            raise DeliveryError(f"SMTP {exc.smtp_code}") from None
        except (smtplib.SMTPException, OSError) as exc:
            raise DeliveryError(f"SMTP {type(exc).__name__}") from None


@dataclass(frozen=True, slots=True)
class SmsSender:
    """SMS through the provider's HTTP JSON API (see the module's docstring)."""

    url: str
    token: str
    sender_name: str
    timeout_s: float = TIMEOUT_S

    def send(self, address: str, subject: str, text: str) -> None:
        """Post one SMS (``subject`` is not sent: an SMS has none)."""
        payload = {"to": address, "text": text, "sender": self.sender_name[:11]}
        request = urllib.request.Request(  # noqa: S310 (the operator's configured https URL)
            self.url,
            data=json.dumps(payload).encode(),
            headers={"Content-Type": "application/json", "Authorization": f"Bearer {self.token}"},
            method="POST",
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout_s) as answer:  # noqa: S310
                answer.read()
        except urllib.error.HTTPError as exc:
            raise DeliveryError(f"SMS provider answered HTTP {exc.code}") from None
        except (urllib.error.URLError, OSError) as exc:
            raise DeliveryError(f"SMS provider unreachable ({type(exc).__name__})") from None


def senders(rule: NotificationRule, environ: Mapping[str, str] = os.environ) -> dict[str, Sender]:
    """The senders of the enabled channels (``call`` has none: dispatchers phone)."""
    out: dict[str, Sender] = {}
    if "email" in rule.channels:
        out["email"] = SmtpSender(
            rule.smtp_host,
            rule.smtp_port,
            rule.from_address,
            rule.sender_name,
            starttls=rule.smtp_starttls,
            user=environ.get("RUFBUS_SMTP_USER", ""),
            password=environ.get("RUFBUS_SMTP_PASSWORD", ""),
        )
    if "sms" in rule.channels:
        out["sms"] = SmsSender(rule.sms_url, environ.get("RUFBUS_SMS_TOKEN", ""), rule.sender_name)
    return out
