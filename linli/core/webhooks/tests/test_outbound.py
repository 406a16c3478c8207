"""The SSRF guard for every URL the server fetches or posts to: schemes, addresses after name
resolution, the allow list, pinning the checked address, and size and time limits. Names are
resolved by a stand-in table (no DNS); servers listen on 127.0.0.1."""

from __future__ import annotations

import socket
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from linli.core.webhooks import outbound

NAMES = {
    "public.test": ["93.184.215.14"],
    "inside.test": ["10.1.2.3"],
    "mixed.test": ["93.184.215.14", "192.168.1.10"],
    "localhost": ["127.0.0.1"],
    "rebind.test": ["127.0.0.1"],
    "metadata.test": ["169.254.169.254"],
}


@pytest.fixture(autouse=True)
def names(monkeypatch):
    def resolve(host, port):
        if host not in NAMES:
            raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")
        return NAMES[host]

    monkeypatch.setattr(outbound, "resolve", resolve)


@pytest.fixture
def no_allow_list(settings):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = []


@pytest.mark.parametrize(
    "url",
    [
        "ftp://public.test/x",
        "file:///etc/passwd",
        "gopher://public.test/",
        "http://127.0.0.1:8000/",
        "http://localhost/",
        "http://[::1]/",
        "http://[::ffff:127.0.0.1]/",
        "http://0.0.0.0/",
        "http://10.0.0.1/",
        "http://172.16.5.4/",
        "http://192.168.0.1/",
        "http://inside.test/",
        "http://mixed.test/",  # one private answer is enough to refuse
        "http://169.254.169.254/latest/meta-data/",
        "http://metadata.test/",
        "http://224.0.0.1/",
        "http://240.0.0.1/",
        "http://100.64.0.1/",
        "http://[fc00::1]/",
        "http://[fe80::1]/",
        "http://2130706433/",  # 127.0.0.1 as a number, resolved by the stand-in: unknown name
        "http://user:pw@public.test/",
        "http://nowhere.test/",  # does not resolve
        "http:///no-host",
    ],
)
def test_refused(url, no_allow_list):
    with pytest.raises(outbound.OutboundRefused) as refused:
        outbound.check_url(url)
    assert "/" in str(refused.value)  # Chinese / English


@pytest.mark.parametrize("url", ["https://public.test/hook", "http://93.184.215.14:8080/x?y=1"])
def test_public_addresses_pass(url, no_allow_list):
    target = outbound.check_url(url)
    assert target.address == "93.184.215.14"


def test_unresolvable_name_passes_only_when_names_need_not_resolve(no_allow_list):
    assert outbound.check_url("https://nowhere.test/", resolve_names=False) is None
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("https://inside.test/", resolve_names=False)


def test_the_allow_list_by_name_address_and_network(settings):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = ["inside.test", "192.168.1.0/24", "127.0.0.1"]
    assert outbound.check_url("http://inside.test/").address == "10.1.2.3"
    assert outbound.check_url("http://mixed.test/").host == "mixed.test"
    assert outbound.check_url("http://127.0.0.1:9/").address == "127.0.0.1"
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("http://10.9.9.9/")  # not listed
    with pytest.raises(outbound.OutboundRefused):
        outbound.check_url("ftp://inside.test/")  # the list never allows another scheme


class Server:
    """A tiny HTTP server on 127.0.0.1 whose answer each test chooses."""

    def __init__(self):
        self.seen: list[dict] = []
        self.handler = lambda h: (200, {}, b"ok")
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                server.seen.append(
                    {"path": self.path, "host": self.headers["Host"], "body": self.rfile.read(length)}
                )
                result = server.handler(self)
                if result is None:
                    return
                status, headers, body = result
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            do_GET = do_POST = _answer  # noqa: N815 - http.server's names

            def log_message(self, *args):
                pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self.httpd.server_port
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


@pytest.fixture
def server():
    s = Server()
    yield s
    s.close()


def test_refused_before_any_connection(server, no_allow_list):
    with pytest.raises(outbound.OutboundRefused):
        outbound.request("GET", f"http://127.0.0.1:{server.port}/")
    assert server.seen == []


def test_connects_to_the_checked_address_with_the_name_in_host(server, settings):
    settings.LINLI_OUTBOUND_ALLOW_HOSTS = ["rebind.test"]
    answer = outbound.request("GET", f"http://rebind.test:{server.port}/p?q=1")
    assert answer.status == 200 and answer.body == b"ok"
    assert server.seen == [{"path": "/p?q=1", "host": f"rebind.test:{server.port}", "body": b""}]


def test_redirects_are_checked_hop_by_hop(server, settings):
    def redirect(h):
        if h.path == "/start":
            return 302, {"Location": "http://169.254.169.254/latest/meta-data/"}, b""
        return 200, {}, b"secret"

    server.handler = redirect
    url = f"http://127.0.0.1:{server.port}/start"
    assert outbound.request("GET", url).status == 302  # not followed unless asked
    with pytest.raises(outbound.OutboundRefused):
        outbound.request("GET", url, follow_redirects=3)
    server.handler = lambda h: (
        (302, {"Location": "/end"}, b"") if h.path == "/start" else (200, {}, b"arrived")
    )
    assert outbound.request("GET", url, follow_redirects=3).body == b"arrived"


def test_size_limit(server):
    server.handler = lambda h: (200, {}, b"x" * 5000)
    url = f"http://127.0.0.1:{server.port}/big"
    assert outbound.request("GET", url, max_bytes=100).body == b"x" * 100  # cut
    with pytest.raises(outbound.OutboundFailed):
        outbound.request("GET", url, max_bytes=100, truncate=False)


def test_size_limit_without_content_length(server):
    def chunks(h):
        h.send_response(200)
        h.end_headers()
        h.wfile.write(b"y" * 5000)
        h.close_connection = True

    server.handler = chunks
    with pytest.raises(outbound.OutboundFailed):
        outbound.request("GET", f"http://127.0.0.1:{server.port}/", max_bytes=100, truncate=False)


def test_total_time_limit_against_a_slow_drip(server):
    def drip(h):
        h.send_response(200)
        h.send_header("Content-Length", "100")
        h.end_headers()
        for _ in range(100):  # one byte every 0.1 s: each read is quick, the whole is not
            try:
                h.wfile.write(b"z")
                h.wfile.flush()
            except OSError:
                return
            time.sleep(0.1)

    server.handler = drip
    started = time.monotonic()
    with pytest.raises(OSError):
        outbound.request("GET", f"http://127.0.0.1:{server.port}/", timeout=0.6, truncate=False)
    assert time.monotonic() - started < 3
