import csv
import datetime as dt
import io

import pytest
from django.core.management import CommandError, call_command
from django.urls import reverse
from openpyxl import Workbook, load_workbook

from linli.core.audit.models import AuditEvent
from linli.core.orgs.choices import Role
from linli.core.orgs.tests.factories import make_staff
from linli.core.people.choices import Relation, Tag
from linli.core.people.importing import TEMPLATE_HEADERS, residents_import, template_workbook
from linli.core.people.models import Household, HouseholdMember, Person
from linli.core.privacy import idcard

from .factories import make_household

pytestmark = pytest.mark.django_db

HEAD = list(TEMPLATE_HEADERS)


def ids(n, start=100):
    return [idcard.make("510106", dt.date(1950 + i, 1 + i % 12, 10), start + i) for i in range(n)]


def csv_bytes(rows, header=HEAD, encoding="utf-8-sig"):
    out = io.StringIO()
    w = csv.writer(out)
    w.writerow(header)
    w.writerows(rows)
    return out.getvalue().encode(encoding)


def xlsx_bytes(rows, header=HEAD):
    book = Workbook()
    sheet = book.active
    sheet.append(header)
    for r in rows:
        sheet.append(r)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


@pytest.fixture
def actor(small_district):
    return make_staff(Role.COMMUNITY_STAFF, small_district.communities[0])


def good_rows(d):
    a, b, c = ids(3)
    return [
        [
            "王大爷",
            a,
            "13900001111",
            "汉族",
            d.compounds[0].name,
            "1栋",
            "1单元",
            "101",
            "户主",
            "自有住房",
            "老年人、党员",
        ],
        ["李阿姨", b, "", "回族", d.compounds[0].name, "1", "1", "101", "配偶", "", "老年人,独居"],
        ["王小明", c, "", "", d.compounds[1].name, "1栋", "2单元", "102", "户主", "租住", ""],
    ]


def test_csv_utf8_bom_imports_everything(small_district, actor):
    d = small_district
    report = residents_import(actor, io.BytesIO(csv_bytes(good_rows(d))), "r.csv")
    assert report.ok, report.errors
    assert (report.persons_created, report.households_created) == (3, 2)
    wang = Person.objects.get(name="王大爷")
    assert wang.grid == d.grids[0]
    assert wang.phone == "13900001111"
    assert sorted(wang.tags.values_list("tag", flat=True)) == [Tag.ELDERLY, Tag.PARTY_MEMBER]
    li = Person.objects.get(name="李阿姨")
    assert li.ethnic_group == "回族"
    assert sorted(li.tags.values_list("tag", flat=True)) == [Tag.ELDERLY, Tag.LIVING_ALONE]
    h = Household.objects.get(flat=d.flats[0])
    assert {(m.person.name, m.relation) for m in h.members.all()} == {
        ("王大爷", "householder"),
        ("李阿姨", "spouse"),
    }
    assert Household.objects.get(flat=d.flats[7]).tenure == "rented"
    assert AuditEvent.objects.filter(action="register.import").get().changes["persons"] == 3
    assert AuditEvent.objects.filter(action="person.create").count() == 3


def test_gbk_csv_and_english_headers(small_district, actor):
    header = [
        "name",
        "id_number",
        "phone",
        "ethnicity",
        "compound",
        "building",
        "unit",
        "room",
        "relation",
        "tenure",
        "tags",
    ]
    report = residents_import(actor, io.BytesIO(csv_bytes(good_rows(small_district), header, "gbk")), "r.csv")
    assert report.ok, report.errors
    assert Person.objects.filter(name="李阿姨", ethnic_group="回族").exists()


def test_xlsx(small_district, actor):
    rows = good_rows(small_district)
    rows[0][7] = 101  # a number cell, as Excel stores it
    report = residents_import(actor, io.BytesIO(xlsx_bytes(rows)), "r.xlsx")
    assert report.ok, report.errors
    assert Person.objects.count() == 3


def test_any_error_writes_nothing_and_reports_every_row(small_district, actor):
    d = small_district
    rows = good_rows(d)
    bad_checksum = rows[2][1][:-1] + ("1" if rows[2][1][-1] != "1" else "2")
    outside = d.compounds[4].name  # community 2: outside the actor's community 0
    rows += [
        ["坏校验", bad_checksum, "", "", d.compounds[0].name, "1栋", "2单元", "101", "户主", "", ""],
        ["重复号", rows[0][1], "", "", d.compounds[0].name, "1栋", "2单元", "102", "户主", "", ""],
        ["无此房", ids(1, 300)[0], "", "", d.compounds[0].name, "9栋", "1单元", "101", "户主", "", ""],
        ["辖区外", ids(1, 301)[0], "", "", outside, "1栋", "1单元", "101", "户主", "", ""],
        ["第二户主", ids(1, 302)[0], "", "", d.compounds[0].name, "1栋", "1单元", "101", "户主", "", ""],
        [
            "坏电话",
            ids(1, 303)[0],
            "12345",
            "",
            d.compounds[1].name,
            "1栋",
            "1单元",
            "101",
            "户主",
            "",
            "火星人",
        ],
    ]
    report = residents_import(actor, io.BytesIO(csv_bytes(rows)), "r.csv")
    assert not report.ok
    found = {(e.row, e.column) for e in report.errors}
    assert (5, "身份证号") in found  # checksum
    assert (6, "身份证号") in found  # duplicate of row 2 in the file
    assert (7, "房号") in found  # unknown flat
    assert (8, "小区") in found  # outside jurisdiction
    assert (8 + 1, "与户主关系") in found  # second householder of flat 0 (row 2 is the first)
    assert (10, "手机号") in found and (10, "标签") in found
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "校验位" in messages[(5, "身份证号")] and "check" in messages[(5, "身份证号")]
    assert "第2行" in messages[(6, "身份证号")]
    assert "辖区" in messages[(8, "小区")]
    assert Person.objects.count() == 0
    assert Household.objects.count() == 0
    assert not AuditEvent.objects.exists()


def test_duplicate_of_register_and_existing_householder(small_district, actor):
    d = small_district
    existing = make_household(d.flats[0], members=1)
    number = existing.members.get().person.id_number
    rows = [
        ["已登记", number, "", "", d.compounds[0].name, "1栋", "1单元", "102", "户主", "", ""],
        ["新户主", ids(1, 400)[0], "", "", d.compounds[0].name, "1栋", "1单元", "101", "户主", "", ""],
    ]
    report = residents_import(actor, io.BytesIO(csv_bytes(rows)), "r.csv")
    messages = {(e.row, e.column): e.message for e in report.errors}
    assert "已在居民档案中登记" in messages[(2, "身份证号")]
    assert "已有户主" in messages[(3, "与户主关系")]
    assert Person.objects.count() == 1


def test_rows_join_an_existing_household(small_district, actor):
    d = small_district
    existing = make_household(d.flats[0], members=1)
    rows = [["新成员", ids(1, 500)[0], "", "", d.compounds[0].name, "1栋", "1单元", "101", "子女", "", ""]]
    report = residents_import(actor, io.BytesIO(csv_bytes(rows)), "r.csv")
    assert report.ok, report.errors
    assert (report.households_created, report.households_joined) == (0, 1)
    assert HouseholdMember.objects.filter(
        household=existing, person__name="新成员", relation=Relation.CHILD
    ).exists()


def test_flat_without_householder_and_missing_columns(small_district, actor):
    d = small_district
    rows = [["只有子女", ids(1, 600)[0], "", "", d.compounds[0].name, "1栋", "1单元", "101", "子女", "", ""]]
    report = residents_import(actor, io.BytesIO(csv_bytes(rows)), "r.csv")
    assert [e.column for e in report.errors] == ["与户主关系"]
    assert "没有户主" in report.errors[0].message
    report = residents_import(actor, io.BytesIO(csv_bytes([["张三"]], header=["姓名"])), "r.csv")
    assert {e.column for e in report.errors} >= {"小区", "楼栋", "单元", "房号", "与户主关系"}
    assert Person.objects.count() == 0


def test_unsupported_file_type(actor):
    report = residents_import(actor, io.BytesIO(b"x"), "r.pdf")
    assert not report.ok and "xlsx" in report.errors[0].message


def test_grid_worker_cannot_import_into_a_neighbouring_grid(small_district):
    d = small_district
    worker = make_staff(Role.GRID_WORKER, d.grids[0])
    rows = [["邻格", ids(1, 700)[0], "", "", d.compounds[1].name, "1栋", "1单元", "101", "户主", "", ""]]
    report = residents_import(worker, io.BytesIO(csv_bytes(rows)), "r.csv")
    assert [(e.row, e.column) for e in report.errors] == [(2, "小区")]


def test_management_command(small_district, actor, tmp_path):
    path = tmp_path / "r.csv"
    path.write_bytes(csv_bytes(good_rows(small_district)))
    call_command("import_residents", str(path), "--actor", actor.username, stdout=io.StringIO())
    assert Person.objects.count() == 3
    bad = tmp_path / "bad.csv"
    bad.write_bytes(csv_bytes(good_rows(small_district)[:1]))  # duplicate now
    err = io.StringIO()
    with pytest.raises(CommandError):
        call_command(
            "import_residents", str(bad), "--actor", actor.username, stderr=err, stdout=io.StringIO()
        )
    assert "第2行" in err.getvalue()
    with pytest.raises(CommandError):
        call_command("import_residents", str(path), "--actor", "nobody")


def test_import_page(client, small_district, actor):
    client.force_login(actor)
    url = reverse("people:import")
    assert client.get(url).status_code == 200
    rows = good_rows(small_district)
    rows[1][1] = rows[0][1]
    upload = io.BytesIO(csv_bytes(rows))
    upload.name = "r.csv"
    response = client.post(url, {"file": upload})
    assert response.status_code == 200
    assert response.context["report"].errors
    assert "第2行" in response.content.decode()
    assert Person.objects.count() == 0
    upload = io.BytesIO(csv_bytes(good_rows(small_district)))
    upload.name = "r.csv"
    response = client.post(url, {"file": upload})
    assert response.status_code == 302
    assert Person.objects.count() == 3


def test_import_page_and_template_staff_only(client, small_district):
    from linli.core.orgs.tests.factories import make_resident

    client.force_login(make_staff(Role.DEPARTMENT_STAFF, small_district.district))
    assert client.get(reverse("people:import")).status_code == 403
    client.force_login(make_resident(None))
    assert client.get(reverse("people:import_template")).status_code == 403


def test_template_download_reimports(client, small_district, actor):
    client.force_login(actor)
    response = client.get(reverse("people:import_template"))
    assert response.status_code == 200
    book = load_workbook(io.BytesIO(response.content))
    assert [c.value for c in book.active[1]] == HEAD
    assert template_workbook()[:2] == b"PK"
