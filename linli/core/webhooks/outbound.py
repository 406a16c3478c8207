"""Every request the server itself makes to a URL someone else gave it — a webhook delivery to a
subscription's target, an Open311 ``media_url`` picture — goes through here, so a URL can never
turn the server against the network it sits in (SSRF).

The guard: the scheme is http or https; the host name is resolved once and **every** address it
resolves to must be a public one — loopback, private (RFC 1918, ULA), link-local (including the
169.254.169.254 metadata address), multicast, reserved, unspecified and shared (CGNAT) addresses
are refused, and so are IPv4 addresses hidden in IPv6 (``::ffff:127.0.0.1``). The connection then
goes to the address that was checked, not to a second lookup, so a name that changes its answer
between the check and the connect (DNS rebinding) gets nowhere. Redirects are re-checked hop by hop.

``LINLI_OUTBOUND_ALLOW_HOSTS`` lists exceptions: a host name (``hooks.intranet.example``), an
address or a network (``10.20.0.0/16``) that may be reached although it is not public — a partner
on the government intranet, or the test receiver on 127.0.0.1. It is empty by default."""

from __future__ import annotations

import http.client
import ipaddress
import socket
import ssl
import time
import urllib.parse
from dataclasses import dataclass, field

from django.conf import settings
from django.utils.translation import gettext as _

USER_AGENT = "Linli/1"
REDIRECTS = {301, 302, 303, 307, 308}


class OutboundRefused(ValueError):
    """A URL the guard will not let the server reach; the message is bilingual."""


class OutboundFailed(OSError):
    """The request was allowed but did not produce a usable answer (too big, too slow, refused)."""


@dataclass
class Answer:
    status: int
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b""
    url: str = ""


def allowed_hosts() -> list[str]:
    return [
        str(h).strip().lower() for h in getattr(settings, "LINLI_OUTBOUND_ALLOW_HOSTS", []) if str(h).strip()
    ]


def resolve(host: str, port: int) -> list[str]:
    """The addresses ``host`` resolves to (tests replace this; nothing in the suite uses DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(info[4][0] for info in infos))


def _forbidden(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    if isinstance(address, ipaddress.IPv6Address):
        inner = address.ipv4_mapped or address.sixtofour or (address.teredo[1] if address.teredo else None)
        if inner is not None and _forbidden(inner):
            return True
    return (
        address.is_loopback
        or address.is_private
        or address.is_link_local
        or address.is_multicast
        or address.is_reserved
        or address.is_unspecified
        or not address.is_global
    )


def _listed(host: str, address: str, allow: list[str]) -> bool:
    if host in allow:
        return True
    ip = ipaddress.ip_address(address)
    for entry in allow:
        try:
            if ip in ipaddress.ip_network(entry, strict=False):
                return True
        except ValueError:  # a host name entry
            continue
    return False


@dataclass(frozen=True)
class Target:
    scheme: str
    host: str
    port: int
    path: str
    address: str  # the checked address the connection goes to


def _parse(url: str) -> tuple[str, str, int, str]:
    try:
        parts = urllib.parse.urlsplit((url or "").strip())
        port = parts.port
    except ValueError:
        raise OutboundRefused(_("网址无效 / the URL is not valid")) from None
    scheme = parts.scheme.lower()
    if scheme not in ("http", "https"):
        raise OutboundRefused(_("只允许 http 或 https 网址 / only http and https URLs are allowed"))
    host = (parts.hostname or "").rstrip(".").lower()
    if not host:
        raise OutboundRefused(_("网址缺少主机名 / the URL has no host"))
    if parts.username is not None or parts.password is not None:
        raise OutboundRefused(_("网址不能带用户名或密码 / the URL may not carry a user name or password"))
    path = parts.path or "/"
    if parts.query:
        path += "?" + parts.query
    return scheme, host, port or (443 if scheme == "https" else 80), path


def _refused_address(host: str, address: str) -> OutboundRefused:
    return OutboundRefused(
        _(
            "不允许访问内网、本机或保留地址（%(h)s → %(a)s）/ refused: %(h)s is a loopback, private, "
            "link-local, multicast or reserved address (%(a)s)"
        )
        % {"h": host, "a": address}
    )


def check_url_quick(url: str) -> None:
    """The checks that need no name lookup — scheme, user info, a literal address — for a request
    path that must not wait on DNS; the full ``check_url`` runs when the URL is fetched."""
    _scheme, host, _port, _path = _parse(url)
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return
    if not _listed(host, str(address), allowed_hosts()) and _forbidden(address):
        raise _refused_address(host, str(address))


def check_url(url: str, *, resolve_names: bool = True) -> Target | None:
    """The target to connect to, or ``OutboundRefused``. With ``resolve_names=False`` (checking a
    URL an administrator saves) a name that does not resolve yet passes: it is checked again, and
    then must resolve, on every request."""
    scheme, host, port, path = _parse(url)
    allow = allowed_hosts()
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        try:
            addresses = resolve(host, port)
        except (OSError, UnicodeError):
            if not resolve_names:
                return None
            raise OutboundRefused(
                _("无法解析主机名 %(h)s / the host name %(h)s does not resolve") % {"h": host}
            ) from None
    if not addresses:
        raise OutboundRefused(_("无法解析主机名 %(h)s / the host name %(h)s does not resolve") % {"h": host})
    for address in addresses:
        if _listed(host, address, allow):
            continue
        if _forbidden(ipaddress.ip_address(address)):
            raise _refused_address(host, address)
    return Target(scheme, host, port, path, addresses[0])


class _PinnedHTTP(http.client.HTTPConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout)
        self._address = target.address

    def connect(self):
        self.sock = socket.create_connection((self._address, self.port), self.timeout)


class _PinnedHTTPS(http.client.HTTPSConnection):
    def __init__(self, target: Target, timeout: float):
        super().__init__(target.host, target.port, timeout=timeout, context=ssl.create_default_context())
        self._address = target.address

    def connect(self):
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self.sock = self._context.wrap_socket(sock, server_hostname=self.host)  # certificate of the name


def request(
    method: str,
    url: str,
    *,
    body: bytes | None = None,
    headers: dict[str, str] | None = None,
    timeout: float = 10.0,
    max_bytes: int = 64 * 1024,
    follow_redirects: int = 0,
    truncate: bool = True,
) -> Answer:
    """One guarded request. ``timeout`` bounds the whole exchange (connect, send, every read),
    not each socket operation; at most ``max_bytes`` of the answer are read — beyond that the body
    is cut (``truncate``) or the request fails. Redirects are not followed unless
    ``follow_redirects`` allows some, each hop checked again. ``OutboundRefused`` for a URL the
    guard refuses, ``OutboundFailed`` (an ``OSError``) for too big or too slow, other ``OSError``
    for network failures."""
    deadline = time.monotonic() + timeout
    for _hop in range(follow_redirects + 1):
        target = check_url(url)
        left = deadline - time.monotonic()
        if left <= 0:
            raise OutboundFailed(_("超时 / timed out"))
        connection = (_PinnedHTTPS if target.scheme == "https" else _PinnedHTTP)(target, left)
        try:
            connection.request(
                method, target.path, body=body, headers={"User-Agent": USER_AGENT, **(headers or {})}
            )
            if connection.sock is not None:  # waiting for the answer counts against the same deadline
                connection.sock.settimeout(max(0.01, deadline - time.monotonic()))
            response = connection.getresponse()
            answer_headers = {k.lower(): v for k, v in response.getheaders()}
            location = answer_headers.get("location")
            if response.status in REDIRECTS and location and _hop < follow_redirects:
                url = urllib.parse.urljoin(url, location)
                if response.status == 303:
                    method, body = "GET", None
                continue
            length = answer_headers.get("content-length", "")
            if not truncate and length.isdigit() and int(length) > max_bytes:
                raise OutboundFailed(_("内容超过大小上限 / the answer is larger than allowed"))
            data = bytearray()
            while len(data) <= max_bytes:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise OutboundFailed(_("超时 / timed out"))
                if connection.sock is not None:
                    connection.sock.settimeout(left)
                chunk = response.read1(min(65536, max_bytes + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
            if len(data) > max_bytes:
                if not truncate:
                    raise OutboundFailed(_("内容超过大小上限 / the answer is larger than allowed"))
                data = data[:max_bytes]
            return Answer(response.status, answer_headers, bytes(data), url)
        except TimeoutError:
            raise OutboundFailed(_("超时 / timed out")) from None
        finally:
            connection.close()
    raise OutboundFailed(_("重定向次数过多 / too many redirects"))
