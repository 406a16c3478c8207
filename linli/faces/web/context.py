"""What every page needs to draw the interface shell: the navigation, the user menu, the messages
link with its unread count, languages and the elderly-friendly mode."""

import functools

from django.conf import settings
from django.urls import NoReverseMatch, reverse

from linli.core.notifications.selectors import unread_count

from .navigation import entries_for
from .preferences import elderly_mode_of


def _url(name: str) -> str:
    try:
        return reverse(name)
    except NoReverseMatch:
        return ""


def interface(request):
    user = getattr(request, "user", None)
    links = entries_for(user, request.path)
    return {
        "nav_main": [link for link in links if link.section == "main"],
        "nav_admin": [link for link in links if link.section == "admin"],
        "elderly_mode": elderly_mode_of(request),
        # a callable: counted only by a page that shows it (one indexed COUNT)
        "unread_notices": functools.partial(unread_count, user) if user is not None else 0,
        "interface_languages": settings.LANGUAGES,
        "account_urls": {
            "login": _url("accounts:login"),
            "resident_login": _url("accounts:resident_login"),
            "logout": _url("accounts:logout"),
            "profile": _url("accounts:profile"),
            "messages": _url("notifications:inbox"),
        },
    }
