"""What every partner request reads (its key, the service) comes from the process cache after the
first request, and a change made in this process is seen at once."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from linli.core.apikeys.selectors import api_key_by_secret
from linli.core.apikeys.services import api_key_revoke
from linli.domains.appeals.models import Category
from linli.faces.open311.selectors import service_by_code


def _queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx.captured_queries)


def test_a_key_is_read_once_and_forgotten_when_revoked(partner, django_capture_on_commit_callbacks):
    key, first = _queries(lambda: api_key_by_secret(partner.secret))
    again, second = _queries(lambda: api_key_by_secret(partner.secret))
    assert key.pk == again.pk == partner.record.pk and first == 1 and second == 0
    assert again.account.pk == partner.record.account_id  # the account comes with it
    with django_capture_on_commit_callbacks(execute=True):
        api_key_revoke(actor=None, key=partner.record)
    assert api_key_by_secret(partner.secret) is None


def test_unknown_secrets_are_not_remembered(partner):
    wrong = partner.secret[:-4] + "0000"
    assert _queries(lambda: api_key_by_secret(wrong)) == (None, 1)
    assert _queries(lambda: api_key_by_secret(wrong)) == (None, 1)


def test_the_cache_can_be_turned_off(partner, settings):
    settings.LINLI_PROCESS_CACHE_SECONDS = 0
    api_key_by_secret(partner.secret)
    assert _queries(lambda: api_key_by_secret(partner.secret))[1] == 1


@pytest.mark.django_db
def test_a_service_is_read_once_and_an_edit_is_seen_at_once(world):
    code = world.rubbish.code
    found, first = _queries(lambda: service_by_code(code))
    again, second = _queries(lambda: service_by_code(code))
    assert found.pk == again.pk == world.rubbish.pk and first >= 1 and second == 0
    category = Category.objects.get(pk=world.rubbish.pk)
    category.is_active = False
    category.save()
    assert service_by_code(code) is None
    category.is_active = True
    category.save()
    parent = category.parent
    parent.is_active = False
    parent.save()  # a whole branch switched off
    assert service_by_code(code) is None
