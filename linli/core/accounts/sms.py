"""Text messages (短信) to residents' phones, through a backend chosen by ``settings.LINLI_SMS_BACKEND``.

A backend is a class with ``send(phone, text)``. Two come with Linli:

- ``LogSmsBackend`` writes the message to the log (the default for ``make run``: the sign-in code
  appears in the console, so the demo works with no SMS gateway);
- ``OutboxSmsBackend`` appends it to the module-level ``outbox`` list, like ``django.core.mail.outbox``
  (the test settings use it).

A deployment plugs in its SMS gateway (for example the city's unified SMS platform) by writing a
class with the same method and naming it in ``LINLI_SMS_BACKEND``.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.conf import settings
from django.utils.module_loading import import_string

from linli.core.privacy.masking import mask_phone

logger = logging.getLogger("linli.sms")


@dataclass(frozen=True)
class SmsMessage:
    phone: str
    text: str


class LogSmsBackend:
    """Development: the message (with its code) goes to the log; the number is masked."""

    def send(self, phone: str, text: str) -> None:
        logger.info("SMS to %s: %s", mask_phone(phone), text)


outbox: list[SmsMessage] = []


class OutboxSmsBackend:
    """Tests: messages collect in ``linli.core.accounts.sms.outbox``."""

    def send(self, phone: str, text: str) -> None:
        outbox.append(SmsMessage(phone=phone, text=text))


def get_backend():
    return import_string(settings.LINLI_SMS_BACKEND)()


def send_sms(*, phone: str, text: str) -> None:
    get_backend().send(phone, text)
