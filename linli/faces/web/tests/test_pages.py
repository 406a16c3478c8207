import pytest
from django.contrib.auth.models import AnonymousUser
from django.template.loader import render_to_string
from django.urls import reverse

from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_resident, make_staff, make_user
from linli.core.people.tests.factories import make_household
from linli.faces.web.preferences import SESSION_KEY


@pytest.fixture
def register(small_district):
    d = small_district
    d.households = [make_household(d.flats[4 * g], members=2) for g in range(len(d.grids))]
    return d


def test_public_home(client, db):
    response = client.get("/")
    assert response.status_code == 200
    html = response.content.decode()
    assert "web/home_public.html" in [t.name for t in response.templates]
    assert 'lang="zh-hans"' in html
    assert reverse("accounts:resident_login") in html
    assert reverse("accounts:login") in html
    assert 'action="/i18n/setlang/"' in html
    assert "style=" not in html  # strict CSP: no inline styles
    assert "<script>" not in html  # nor inline scripts


def test_home_in_english(client, db):
    response = client.post("/i18n/setlang/", {"language": "en", "next": "/"}, follow=True)
    html = response.content.decode()
    assert 'lang="en"' in html
    assert "Staff sign-in" in html
    assert "Elderly mode" in html
    assert "工作人员登录" not in html


def test_staff_home_shows_roles_and_counts_inside_the_jurisdiction(client, register):
    d = register
    user = make_staff(Role.COMMUNITY_STAFF, d.communities[0])
    client.force_login(user)
    response = client.get("/")
    assert "web/home_staff.html" in [t.name for t in response.templates]
    counts = {str(c.label): c.value for c in response.context["counts"]}
    assert counts == {"网格": 2, "小区/院落": 2, "住户": 2, "居民": 4}
    assert [m.role for m in response.context["memberships"]] == [Role.COMMUNITY_STAFF]
    assert d.communities[0].name in response.content.decode()


def test_staff_without_register_roles_see_no_counts(client, register):
    user = make_staff(Role.DEPARTMENT_STAFF, register.district)
    client.force_login(user)
    response = client.get("/")
    assert response.context["counts"] == []


def test_staff_without_any_role_are_told_so(client, db):
    client.force_login(make_user())
    response = client.get("/")
    assert "尚未分配角色" in response.content.decode()


def test_superuser_counts_the_whole_district(client, register):
    client.force_login(make_user(is_superuser=True))
    counts = {str(c.label): c.value for c in client.get("/").context["counts"]}
    assert counts == {"网格": 8, "小区/院落": 8, "住户": 8, "居民": 16}


def test_resident_home_shows_their_household(client, register):
    household = register.households[3]
    person = household.members.first().person
    client.force_login(make_resident(person))
    response = client.get("/")
    assert "web/home_resident.html" in [t.name for t in response.templates]
    assert response.context["household"] == household
    assert register.compounds[3].name in response.content.decode()


def test_resident_without_register_entry(client, db):
    client.force_login(make_resident())
    response = client.get("/")
    assert response.context["household"] is None
    assert "还没有关联" in response.content.decode()


def test_elderly_mode_for_anonymous_visitors_lives_in_the_session(client, db):
    url = reverse("web:elderly_mode")
    assert client.get(url).status_code == 405
    response = client.post(url, {"enabled": "1", "next": "/places/map/"})
    assert response.status_code == 302 and response["Location"] == "/places/map/"
    assert client.session[SESSION_KEY] is True
    assert 'class="elderly ' in client.get("/").content.decode()
    client.post(url, {"enabled": "0"})
    assert 'class="elderly ' not in client.get("/").content.decode()


def test_elderly_mode_toggles_without_a_value(client, db):
    url = reverse("web:elderly_mode")
    client.post(url)
    assert client.session[SESSION_KEY] is True
    client.post(url)
    assert client.session[SESSION_KEY] is False


def test_elderly_mode_is_kept_on_the_account(client, db):
    user = make_user()
    client.force_login(user)
    client.post(reverse("web:elderly_mode"), {"enabled": "1"})
    user.refresh_from_db()
    assert user.elderly_mode is True
    # Another device (a new session) shows it too.
    other = client.__class__()
    other.force_login(user)
    assert 'class="elderly ' in other.get("/").content.decode()


def test_elderly_mode_refuses_redirects_elsewhere(client, db):
    response = client.post(reverse("web:elderly_mode"), {"enabled": "1", "next": "https://evil.example/"})
    assert response["Location"] == "/"


def test_404_page(client, db):
    response = client.get("/no-such-page/")
    assert response.status_code == 404
    html = response.content.decode()
    assert "页面不存在" in html and "error-code" in html


def test_error_templates_render_without_a_request():
    for name in ("500.html", "403_csrf.html"):
        html = render_to_string(name)
        assert "error-code" in html
        assert "csrf" not in html.lower() or name == "403_csrf.html"


def test_429_and_403_templates(rf, db):
    request = rf.get("/")
    request.user = AnonymousUser()
    request.session = {}
    html = render_to_string("429.html", {"retry_after": "5 分钟"}, request=request)
    assert "429" in html and "5 分钟" in html
    html = render_to_string("403.html", request=request)
    assert "无权访问" in html


def test_the_top_bar_links_to_the_messages_with_the_unread_count(client, db):
    from linli.core.notifications.services import notification_mark_read, notify

    assert reverse("notifications:inbox") not in client.get("/").content.decode()  # nobody signed in
    resident = make_resident()
    client.force_login(resident)
    html = client.get("/").content.decode()
    assert reverse("notifications:inbox") in html and "count-badge" not in html
    notify(recipients=[resident], kind="t", title="您的诉求已立案")
    notify(recipients=[resident], kind="t", title="您的诉求已办结")
    html = client.get("/").content.decode()
    assert 'aria-label="消息，2 条未读"' in html
    assert '<span class="count-badge" aria-hidden="true">2</span>' in html
    notification_mark_read(actor=resident)
    assert "count-badge" not in client.get("/").content.decode()
