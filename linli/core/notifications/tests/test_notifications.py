import pytest
from django.db import transaction
from django.urls import reverse

from linli.core.accounts.models import User
from linli.core.notifications.models import Notification
from linli.core.notifications.selectors import unread_count
from linli.core.notifications.services import notification_mark_read, notify


@pytest.fixture
def staff(db):
    return User.objects.create_user("staff1", password="x" * 12)


@pytest.fixture
def resident(db):
    return User.objects.create_user("res1", kind=User.Kind.RESIDENT, phone="13900000001")


def test_notify_puts_one_row_per_recipient(staff, resident):
    rows = notify(recipients=[staff, resident, staff], kind="test", title="有新案件")
    assert len(rows) == 2
    assert unread_count(staff) == 1


def test_dedupe_key_makes_retries_harmless(staff):
    notify(recipients=[staff], kind="deadline", title="即将超期", dedupe_key="appeal:1:yellow")
    notify(recipients=[staff], kind="deadline", title="即将超期", dedupe_key="appeal:1:yellow")
    assert Notification.objects.filter(recipient=staff).count() == 1


@pytest.mark.django_db(transaction=True)
def test_residents_get_an_sms_copy_after_commit(staff, resident):
    from linli.core.accounts import sms

    sms.outbox.clear()
    with transaction.atomic():
        notify(recipients=[staff, resident], kind="appeal", title="您的诉求已办结", sms=True)
        assert sms.outbox == []  # nothing leaves before the change commits
    assert [m.phone for m in sms.outbox] == ["13900000001"]
    assert "您的诉求已办结" in sms.outbox[0].text


def test_mark_read_touches_only_own_rows(staff, resident):
    notify(recipients=[staff, resident], kind="t", title="x")
    assert notification_mark_read(actor=staff) == 1
    assert unread_count(staff) == 0 and unread_count(resident) == 1


def test_inbox_page_lists_messages(client, staff):
    notify(recipients=[staff], kind="t", title="请签收案件")
    client.force_login(staff)
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 200
    assert "请签收案件" in response.content.decode()


def test_inbox_needs_sign_in(client, db):
    response = client.get(reverse("notifications:inbox"))
    assert response.status_code == 302


def test_a_notice_built_with_gettext_is_stored_in_every_language_and_shown_in_the_readers(client, staff):
    from django.utils import translation
    from django.utils.translation import gettext as _

    with translation.override("en"):  # the worker's language does not decide what is stored
        (row,) = notify(
            recipients=[staff],
            kind="t",
            title=lambda: _("%(n)s 件新诉求待受理") % {"n": 2},
            body=lambda: "JN1、JN2" + _(" 等"),
        )
    row.refresh_from_db()
    assert (row.title, row.body) == ("2 件新诉求待受理", "JN1、JN2 等")  # what an SMS would say
    assert row.translations == {"en": {"title": "2 new appeals to register", "body": "JN1、JN2 and more"}}
    client.force_login(staff)
    assert "2 件新诉求待受理" in client.get(reverse("notifications:inbox")).content.decode()
    client.cookies["django_language"] = "en"
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert "2 new appeals to register" in page and "新诉求" not in page


def test_a_plain_text_notice_is_shown_as_written_and_long_titles_are_clipped(staff):
    from django.utils import translation

    (row,) = notify(recipients=[staff], kind="t", title="长" * 200)
    assert row.translations == {} and len(row.title) == 120 and row.title.endswith("…")
    with translation.override("en"):
        assert row.shown_title == row.title


def test_opening_a_notice_marks_it_read_and_follows_its_link(client, staff, resident):
    (mine,) = notify(recipients=[staff], kind="t", title="请签收案件", url="/appeals/7/")
    (theirs,) = notify(recipients=[resident], kind="t", title="x", url="/appeals/mine/7/")
    (outside,) = notify(recipients=[staff], kind="t", title="y", url="https://example.com/")
    client.force_login(staff)
    page = client.get(reverse("notifications:inbox")).content.decode()
    assert reverse("notifications:open", args=[mine.pk]) in page
    response = client.get(reverse("notifications:open", args=[mine.pk]))
    assert response.status_code == 302 and response["Location"] == "/appeals/7/"
    mine.refresh_from_db()
    assert mine.read_at is not None and unread_count(staff) == 1
    assert client.get(reverse("notifications:open", args=[theirs.pk])).status_code == 404  # not theirs
    assert client.get(reverse("notifications:open", args=[outside.pk]))["Location"] == reverse(
        "notifications:inbox"
    )  # only links inside the platform are followed
