import logging

import pytest
from django.test import RequestFactory
from django_ratelimit.exceptions import Ratelimited

from linli.core.accounts import sms, views

pytestmark = pytest.mark.django_db


def test_log_backend_logs_code_with_masked_number(caplog, settings):
    settings.LINLI_SMS_BACKEND = "linli.core.accounts.sms.LogSmsBackend"
    with caplog.at_level(logging.INFO, logger="linli.sms"):
        sms.send_sms(phone="13812345678", text="code 123456")
    assert "138****5678" in caplog.text and "123456" in caplog.text
    assert "13812345678" not in caplog.text
    assert sms.outbox == []


def test_outbox_backend_is_the_test_default():
    sms.send_sms(phone="13812345678", text="hello")
    assert sms.outbox == [sms.SmsMessage(phone="13812345678", text="hello")]


def test_ratelimited_view_for_the_middleware_signature(rf: RequestFactory):
    from django.contrib.auth.models import AnonymousUser
    from django.contrib.sessions.backends.db import SessionStore

    request = rf.get("/anything/")
    request.user = AnonymousUser()
    request.session = SessionStore()
    response = views.ratelimited(request, Ratelimited())
    assert response.status_code == 429
    assert response["Retry-After"] == "60"
    assert "操作太频繁 / Too many requests" in response.content.decode()
