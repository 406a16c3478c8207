"""Deferred creation (GeoReport v2 tokens): a request with a ``media_url`` is answered with a token;
the worker fetches the picture (through the SSRF guard, checked like an uploaded photo), files the
case and links it, and GET tokens/{token} then gives its service_request_id. Pictures are served
from 127.0.0.1 (listed in the test settings); other names resolve through a stand-in table."""

from __future__ import annotations

import datetime as dt
import json
import threading
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.utils import timezone

from linli.core.webhooks import outbound
from linli.domains.appeals.choices import Action, AttachmentKind
from linli.domains.appeals.models import Appeal, Attachment
from linli.domains.appeals.tests.conftest import jpeg_with_exif
from linli.faces.open311 import services
from linli.faces.open311.models import PendingRequest, PendingStatus

BASE = "/open311/v2/"
DUMMY_TASKS = {"default": {"BACKEND": "django_tasks.backends.dummy.DummyBackend"}}


class Pictures:
    def __init__(self):
        self.files: dict[str, tuple[int, str, bytes]] = {}
        self.seen: list[str] = []
        pictures = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self):  # noqa: N802 - http.server's name
                pictures.seen.append(self.path)
                status, content_type, body = pictures.files.get(self.path, (404, "text/plain", b"no"))
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.httpd.server_port}{path}"


@pytest.fixture
def pictures():
    p = Pictures()
    p.files["/p.jpg"] = (200, "image/jpeg", jpeg_with_exif("GPS-SECRET"))
    p.files["/page.html"] = (200, "text/html", b"<html>not a picture</html>")
    yield p
    p.httpd.shutdown()
    p.httpd.server_close()


@pytest.fixture
def poster(world, partner):
    lng, lat = world.point(0)
    return {
        "api_key": partner.secret,
        "service_code": world.rubbish.code,
        "lat": lat,
        "long": lng,
        "description": "路口有暴露垃圾",
        "first_name": "小明",
        "last_name": "王",
        "phone": "13800002222",
    }


def post(client, fmt, data, **headers):
    response = client.post(f"{BASE}requests.{fmt}", data, **headers)
    return response, _rows(response, fmt)


def _rows(response, fmt) -> list[dict]:
    if fmt == "json":
        return json.loads(response.content)
    root = ET.fromstring(response.content)  # noqa: S314 - our own response
    return [{c.tag: c.text for c in item} for item in root]


def token_row(client, token, fmt="json"):
    response = client.get(f"{BASE}tokens/{token}.{fmt}")
    return response, _rows(response, fmt)


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_a_media_url_is_answered_with_a_token_then_the_case_has_the_picture(
    client, world, poster, pictures, fmt, settings
):
    settings.LINLI_APPEALS_AUTO_DISPATCH = False
    response, rows = post(client, fmt, {**poster, "media_url": pictures.url("/p.jpg"), "account_id": "a-1"})
    assert response.status_code == 202, response.content
    (row,) = rows
    assert row["token"] and not row.get("service_request_id") and row["account_id"] == "a-1"
    assert pictures.seen == ["/p.jpg"]
    found, (resolved,) = token_row(client, row["token"], fmt)
    assert found.status_code == 200 and resolved["token"] == row["token"]
    appeal = Appeal.objects.get(reference=resolved["service_request_id"])
    assert appeal.contact_name == "王小明" and appeal.contact_phone == "13800002222"
    assert appeal.submitted_by.api_key.prefix == PendingRequest.objects.get().api_key.prefix
    (photo,) = Attachment.objects.filter(appeal=appeal)
    assert photo.kind == AttachmentKind.REPORT and photo.content_type == "image/jpeg"
    assert b"GPS-SECRET" in photo.file.read() and b"GPS-SECRET" not in photo.public_file.read()
    submit_event = appeal.events.get(action=Action.SUBMIT)
    assert submit_event.note == ""
    assert PendingRequest.objects.get().status == PendingStatus.CREATED


def test_pending_until_the_worker_runs_and_processing_is_idempotent(
    client, world, poster, pictures, settings
):
    settings.TASKS = DUMMY_TASKS
    from django_tasks import default_task_backend

    response, (row,) = post(client, "json", {**poster, "media_url": pictures.url("/p.jpg")})
    assert response.status_code == 202
    pending = PendingRequest.objects.get(token=row["token"])
    assert pending.status == PendingStatus.PENDING and not Appeal.objects.exists()
    # stored with its worker's task, in the same transaction as the answer
    (queued,) = [r for r in default_task_backend.results if r.task.name == "open311_pending_process"]
    assert queued.kwargs == {"pending_id": pending.pk}
    # the contact's phone is encrypted at rest
    raw = PendingRequest.objects.filter(pk=pending.pk).values_list("submission", flat=True)
    from django.db import connection

    with connection.cursor() as cursor:
        cursor.execute("SELECT submission FROM open311_pendingrequest WHERE id = %s", [pending.pk])
        assert "13800002222" not in cursor.fetchone()[0]
    assert "13800002222" in raw.get()

    _, (waiting,) = token_row(client, row["token"])
    assert waiting == {"service_request_id": None, "token": row["token"]}
    _, (waiting_xml,) = token_row(client, row["token"], "xml")
    assert waiting_xml["service_request_id"] is None

    from linli.faces.open311.tasks import open311_pending_process

    assert open311_pending_process.call(pending_id=pending.pk) == PendingStatus.CREATED
    assert open311_pending_process.call(pending_id=pending.pk) == PendingStatus.CREATED  # again: nothing new
    assert services.pending_request_process(pending_id=pending.pk).status == PendingStatus.CREATED
    (appeal,) = Appeal.objects.all()
    assert appeal.attachments.count() == 1 and pictures.seen == ["/p.jpg"]
    _, (done,) = token_row(client, row["token"])
    assert done == {"service_request_id": appeal.reference, "token": row["token"]}


def test_a_retry_with_the_same_idempotency_key_gets_the_same_token(client, world, poster, pictures, settings):
    settings.TASKS = DUMMY_TASKS
    data = {**poster, "media_url": pictures.url("/p.jpg")}
    _, (first,) = post(client, "json", data, HTTP_IDEMPOTENCY_KEY="r-1")
    _, (again,) = post(client, "json", data, HTTP_IDEMPOTENCY_KEY="r-1")
    _, (other,) = post(client, "json", data, HTTP_IDEMPOTENCY_KEY="r-2")
    assert first["token"] == again["token"] != other["token"]
    assert PendingRequest.objects.count() == 2


def test_no_request_is_stored_when_its_task_cannot_be_queued(world, partner, monkeypatch):
    from linli.faces.open311 import tasks

    class Broken:
        def enqueue(self, **kwargs):
            raise RuntimeError("queue down")

    monkeypatch.setattr(tasks, "open311_pending_process", Broken())
    with pytest.raises(RuntimeError):
        services.pending_request_create(
            key=partner.record, submission={"title": "x"}, media_url="https://public.test/p.jpg"
        )
    assert not PendingRequest.objects.exists()


def _filed(client, poster, media_url) -> Appeal:
    response, (row,) = post(client, "json", {**poster, "media_url": media_url})
    assert response.status_code == 202, response.content
    _, (resolved,) = token_row(client, row["token"])
    return Appeal.objects.get(reference=resolved["service_request_id"])


@pytest.mark.parametrize(
    "path, why",
    [("/missing.jpg", "HTTP 404"), ("/page.html", "JPEG")],
)
def test_a_picture_that_cannot_be_had_still_files_the_case_and_says_so(
    client, world, poster, pictures, path, why
):
    appeal = _filed(client, poster, pictures.url(path))
    assert not appeal.attachments.exists()
    note = appeal.events.get(action=Action.SUBMIT).note
    assert "could not be fetched" in note and why in note and pictures.url(path) in note
    assert PendingRequest.objects.get().status == PendingStatus.CREATED


def test_too_big_a_picture_is_not_attached(client, world, poster, pictures, settings):
    settings.LINLI_OPEN311_MEDIA_MAX_BYTES = 100
    appeal = _filed(client, poster, pictures.url("/p.jpg"))
    assert not appeal.attachments.exists()
    assert "larger than allowed" in appeal.events.get(action=Action.SUBMIT).note


def test_a_name_that_resolves_inside_the_network_is_never_fetched(
    client, world, poster, pictures, settings, monkeypatch
):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []
    monkeypatch.setattr(outbound, "resolve", lambda host, port: ["127.0.0.1"])
    appeal = _filed(client, poster, pictures.url("/p.jpg", host="pics.test"))
    assert pictures.seen == [] and not appeal.attachments.exists()
    assert "refused" in appeal.events.get(action=Action.SUBMIT).note


@pytest.mark.parametrize(
    "media_url",
    [
        "http://127.0.0.1/p.jpg",
        "http://169.254.169.254/latest",
        "http://[::1]/p.jpg",
        "ftp://pics.test/p.jpg",
        "https://pics.test/" + "a" * 2000,  # longer than the column
    ],
)
def test_a_media_url_at_an_inside_address_is_400(client, world, poster, settings, media_url):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []
    response, (error,) = post(client, "json", {**poster, "media_url": media_url})
    assert response.status_code == 400 and error["code"] == 400
    assert not PendingRequest.objects.exists() and not Appeal.objects.exists()


def test_deferred_request_outside_the_district_is_400(client, world, poster):
    response, (error,) = post(
        client, "json", {**poster, "lat": "10", "long": "10", "media_url": "https://x.test/p"}
    )
    assert response.status_code == 400 and "/" in error["description"]
    assert not PendingRequest.objects.exists()


@pytest.mark.parametrize("fmt", ["json", "xml"])
def test_unknown_token_is_404(client, world, fmt):
    response = client.get(f"{BASE}tokens/tNOSUCHTOKEN.{fmt}")
    assert response.status_code == 404
    assert _rows(response, fmt)[0]["description"]


def test_the_sweep_requeues_stale_requests_and_gives_up_after_five_tries(
    client, world, poster, pictures, settings
):
    settings.TASKS = DUMMY_TASKS
    from django_tasks import default_task_backend

    _, (row,) = post(client, "json", {**poster, "media_url": pictures.url("/p.jpg")})
    pending = PendingRequest.objects.get(token=row["token"])
    assert services.pending_request_sweep() == 0  # not stale yet
    PendingRequest.objects.filter(pk=pending.pk).update(created_at=timezone.now() - dt.timedelta(minutes=11))
    before = len(default_task_backend.results)
    assert services.pending_request_sweep() == 1
    assert len(default_task_backend.results) == before + 1
    PendingRequest.objects.filter(pk=pending.pk).update(attempts=services.MAX_ATTEMPTS)
    assert services.pending_request_sweep() == 0
    pending.refresh_from_db()
    assert pending.status == PendingStatus.FAILED
    _, (failed,) = token_row(client, row["token"])
    assert failed["service_request_id"] is None and "could not" in failed["service_notice"]


def test_the_admin_lists_pending_requests_without_the_submission(client, world, poster, pictures, settings):
    from linli.core.accounts.models import User

    settings.TASKS = DUMMY_TASKS
    post(client, "json", {**poster, "media_url": pictures.url("/p.jpg")})
    pending = PendingRequest.objects.get()
    admin = User.objects.create_superuser(username="root", password="x" * 12)
    client.force_login(admin)
    listing = client.get("/admin/open311/pendingrequest/")
    assert listing.status_code == 200 and pending.token in listing.content.decode()
    page = client.get(f"/admin/open311/pendingrequest/{pending.pk}/change/").content.decode()
    assert pending.media_url in page and "13800002222" not in page and "王" not in page
