"""What every page needs to draw the interface shell: the navigation, the user menu, languages and
the elderly-friendly mode."""

from django.conf import settings
from django.urls import NoReverseMatch, reverse

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
        "interface_languages": settings.LANGUAGES,
        "account_urls": {
            "login": _url("accounts:login"),
            "resident_login": _url("accounts:resident_login"),
            "logout": _url("accounts:logout"),
            "profile": _url("accounts:profile"),
        },
    }
