"""Case exports: scope, filters, masking, no ID numbers, formula injection, audit, Excel layout."""

import csv
import io

import pytest
from django.urls import reverse
from django.utils import timezone
from openpyxl import load_workbook

from linli.core.audit.models import AuditEvent
from linli.domains.appeals import services as svc
from linli.domains.appeals.choices import AppealStatus as S
from linli.domains.appeals.tests.helpers import bring_to

ID_NUMBER = "510106199001011234"


@pytest.fixture
def cases(world):
    lng, lat = world.point(0)
    hotline = svc.appeal_submit(
        actor=world.dispatcher,
        channel="hotline",
        title='=HYPERLINK("http://evil")',
        body=f"李大海来电，身份证 {ID_NUMBER}，电话 13912345678，住幸福路8号3栋2单元401",
        category=world.rubbish,
        lng=lng,
        lat=lat,
        address="幸福路8号3栋2单元401",
        contact_name="李大海",
        contact_phone="13912345678",
        auto_dispatch=False,
    )
    closed = bring_to(world, S.CLOSED)  # resident 王小明, 13800001111, street 1
    other_street = bring_to(world, S.REGISTERED, grid_index=-1, category=world.dirty_road)
    return {"hotline": hotline, "closed": closed, "other": other_street}


def get_csv(client, user, **params):
    client.force_login(user)
    response = client.get(reverse("exports:cases_csv"), params)
    assert response.status_code == 200, response.status_code
    assert response.streaming
    assert response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.DictReader(io.StringIO(text[1:])))
    return rows, text


def test_dispatcher_sees_personal_data_but_never_id_numbers(client, world, cases):
    rows, text = get_csv(client, world.dispatcher)
    assert {r["编号"] for r in rows} == {c.reference for c in cases.values()}
    hotline = next(r for r in rows if r["编号"] == cases["hotline"].reference)
    assert hotline["诉求人"] == "李大海" and hotline["联系电话"] == "13912345678"
    assert hotline["地址"] == "幸福路8号3栋2单元401" and hotline["个人信息"] == "明文"
    assert ID_NUMBER not in text and "[证件号已隐去]" in hotline["内容"]
    assert hotline["标题"].startswith("'=")  # no formula runs when the file is opened
    resident_row = next(r for r in rows if r["编号"] == cases["closed"].reference)
    assert resident_row["诉求人"] == "王小明" and resident_row["联系电话"] == "13800001111"
    assert resident_row["状态"] == "已办结"
    audit = AuditEvent.objects.get(action="appeal.export")
    assert audit.actor == world.dispatcher
    assert audit.changes["rows"] == 3 and audit.changes["format"] == "csv" and audit.changes["personal_data"]


def test_street_staff_get_their_street_masked(client, world, cases):
    rows, text = get_csv(client, world.street_staff)
    assert {r["编号"] for r in rows} == {cases["hotline"].reference, cases["closed"].reference}
    for secret in ("李大海", "13912345678", "13800001111", "王小明", "2单元401", ID_NUMBER):
        assert secret not in text, secret
    hotline = next(r for r in rows if r["编号"] == cases["hotline"].reference)
    assert hotline["诉求人"] == "李**" and hotline["联系电话"] == "139****5678"
    assert hotline["个人信息"] == "已脱敏" and "[电话已隐去]" in hotline["内容"]


def test_street_dispatcher_scope(client, world, cases):
    rows, _text = get_csv(client, world.street2_dispatcher)
    assert [r["编号"] for r in rows] == [cases["other"].reference]
    assert rows[0]["诉求人"] == "王小明"  # inside their dispatching jurisdiction


def test_department_sees_only_cases_it_was_given(client, world, cases):
    rows, text = get_csv(client, world.handler)
    assert [r["编号"] for r in rows] == [cases["closed"].reference]
    assert "13800001111" not in text


def test_filters(client, world, cases):
    def refs(**params):
        rows, _text = get_csv(client, world.dispatcher, **params)
        return {r["编号"] for r in rows}

    assert refs(status=S.CLOSED) == {cases["closed"].reference}
    assert refs(category=world.dirty_road.pk) == {cases["other"].reference}
    assert refs(category=world.domain.pk) == {c.reference for c in cases.values()}
    assert refs(area=world.d.streets[1].pk) == {cases["other"].reference}
    today = timezone.localdate(cases["closed"].created_at).isoformat()  # the filter reads local dates
    assert len(refs(since=today, until=today)) == 3
    assert refs(until="2000-01-01") == set()
    client.force_login(world.dispatcher)
    assert (
        client.get(reverse("exports:cases_csv"), {"since": "2025-02-02", "until": "2025-01-01"}).status_code
        == 400
    )


def test_residents_and_visitors_cannot_export(client, world, cases):
    assert client.get(reverse("exports:cases_csv")).status_code == 302  # to sign-in
    client.force_login(world.resident)
    assert client.get(reverse("exports:cases_csv")).status_code == 403
    assert client.get(reverse("exports:cases_xlsx")).status_code == 403
    assert client.get(reverse("exports:cases")).status_code == 403


def test_excel_has_header_sheet_and_masked_rows(client, world, cases):
    client.force_login(world.street_staff)
    response = client.get(reverse("exports:cases_xlsx"), {"status": S.CLOSED})
    assert response.status_code == 200
    assert "spreadsheetml" in response["Content-Type"]
    wb = load_workbook(io.BytesIO(b"".join(response.streaming_content)))
    assert wb.sheetnames == ["说明", "诉求"]
    about = {row[0]: row[1] for row in wb["说明"].iter_rows(min_row=2, values_only=True)}
    assert about["导出人"] == str(world.street_staff) and about["行数"] == 1
    assert about["状态"] == S.CLOSED and about["导出时间"]
    sheet = list(wb["诉求"].iter_rows(values_only=True))
    header, rows = sheet[0], sheet[1:]
    assert header[0] == "编号" and "联系电话" in header
    assert len(rows) == 1 and rows[0][0] == cases["closed"].reference
    assert rows[0][header.index("联系电话")] == "138****1111"
    assert AuditEvent.objects.filter(action="appeal.export", changes__format="xlsx").count() == 1


def test_excel_refused_above_the_limit(client, world, cases, settings):
    settings.LINLI_EXPORT_XLSX_MAX_ROWS = 2
    client.force_login(world.dispatcher)
    response = client.get(reverse("exports:cases_xlsx"))
    assert response.status_code == 400
    assert not AuditEvent.objects.filter(action="appeal.export").exists()
    # CSV streams whatever the size
    rows, _text = get_csv(client, world.dispatcher)
    assert len(rows) == 3


def test_export_page_counts(client, world, cases, django_assert_max_num_queries):
    client.force_login(world.street_staff)
    response = client.get(reverse("exports:cases"), {"status": S.CLOSED})
    assert response.status_code == 200
    assert response.context["count"] == 1
    assert reverse("exports:cases_csv") in response.content.decode()


def test_csv_query_count_does_not_grow_with_rows(client, world, cases, django_assert_max_num_queries):
    client.force_login(world.dispatcher)
    for _ in range(5):
        bring_to(world, S.CLOSED)
    with django_assert_max_num_queries(12):
        response = client.get(reverse("exports:cases_csv"))
        rows = b"".join(response.streaming_content).decode().count("\n")
    assert rows >= 9
