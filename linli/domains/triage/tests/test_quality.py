"""Result quality check: findings for short, off-topic, unexplained or photo-less results."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.tests.conftest import png_bytes
from linli.domains.appeals.tests.helpers import bring_to
from linli.domains.triage.quality import check_result, relevance

LAMP = SimpleNamespace(
    title="幸福小区东门路灯不亮",
    body="幸福小区东门口的路灯坏了一个星期，晚上很黑，老人出门容易摔倒。",
    category=None,
)
CONSULT = SimpleNamespace(
    title="咨询社保卡补办", body="社保卡丢了，请问在哪里补办，需要带什么材料？", category=None
)
GOOD_LAMP = (
    "您好！经核实，幸福小区东门口路灯因线路老化损坏，我局已安排维修人员于今日更换灯具和线路，"
    "路灯已恢复正常照明。感谢您的监督。"
)


def codes(findings):
    return {f.code for f in findings}


def test_a_complete_result_with_a_photo_has_no_findings():
    assert check_result(LAMP, GOOD_LAMP, photos=1) == []


def test_the_same_result_without_a_photo_asks_for_one():
    assert codes(check_result(LAMP, GOOD_LAMP, photos=0)) == {"no_photo"}
    assert check_result(LAMP, GOOD_LAMP, photos=0, existing_photos=1) == []


def test_a_consultation_needs_no_photo():
    reply = (
        "您好！社保卡遗失后，根据规定可携带本人身份证到就近的社保服务网点办理补卡，"
        "当场即可领取临时卡，正式卡约十个工作日。"
    )
    assert check_result(CONSULT, reply, photos=0) == []


def test_short_unexplained_and_off_topic_results_are_flagged():
    assert {"too_short", "no_explanation"} <= codes(check_result(LAMP, "好的，知道了。", photos=1))
    off_topic = (
        "您好！关于学校招生划片的政策，依据教育局文件规定，按户籍和房产所在地确定学区，"
        "请家长在报名期间携带户口簿和房产证明到学校按时报名，逾期将统筹安排学位。"
    )
    assert "off_topic" in codes(check_result(LAMP, off_topic, photos=1))
    assert relevance(f"{LAMP.title} {LAMP.body}", GOOD_LAMP) > relevance(
        f"{LAMP.title} {LAMP.body}", off_topic
    )


@pytest.fixture(autouse=True)
def _manual(settings):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False


def _client(user):
    c = Client()
    c.force_login(user)
    return c


def test_the_check_endpoint_is_for_the_lead_unit(world):
    a = bring_to(world, S.IN_PROGRESS)
    url = reverse("appeals:result_check", args=[a.pk])
    r = _client(world.handler).post(url, {"result": "已清运", "photos": "0"})
    assert r.status_code == 200
    assert {"too_short", "no_photo"} <= {f["code"] for f in r.json()["findings"]}
    assert _client(world.other_handler).post(url, {"result": "x"}).status_code == 403


def test_the_handle_form_asks_to_confirm_then_submits(world):
    a = bring_to(world, S.IN_PROGRESS)
    c = _client(world.handler)
    url = reverse("appeals:case_act", args=[a.pk, "handle"])
    form = {"seen_status": "in_progress", "result": "已清运", "quality_check": "1"}
    r = c.post(url, form)
    assert r.status_code == 200 and r.context["quality_findings"]
    assert "仍然提交办理结果" in r.content.decode() and "已清运" in r.content.decode()
    a.refresh_from_db()
    assert a.status == S.IN_PROGRESS
    r = c.post(url, {**form, "quality_ack": "1", "photos": [SimpleUploadedFile("r.png", png_bytes())]})
    assert r.status_code == 302
    a.refresh_from_db()
    assert a.status == S.HANDLED and a.result == "已清运"
