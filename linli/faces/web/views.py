from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from linli.core.orgs.jurisdiction import is_staff_member, jurisdiction_of

from . import workspace
from .navigation import entries_for
from .preferences import elderly_mode_of, elderly_mode_set


def home(request):
    user = request.user
    if not user.is_authenticated:
        return render(request, "web/home_public.html")
    links = [link for link in entries_for(user, request.path) if link.url_name != "web:home"]
    if getattr(user, "is_resident", False) and not user.is_superuser:
        return render(
            request,
            "web/home_resident.html",
            {
                "household": workspace.resident_household(user),
                "links": links,
            },
        )
    return render(
        request,
        "web/home_staff.html",
        {
            "is_staff_member": is_staff_member(user),
            "is_superuser": jurisdiction_of(user).is_superuser,
            "memberships": workspace.staff_memberships(user),
            "counts": workspace.jurisdiction_counts(user),
            "links": links,
        },
    )


def _safe_next(request, fallback: str = "/") -> str:
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or fallback
    if url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return fallback


@require_POST
def elderly_mode(request):
    """Switch the elderly-friendly mode on ("1") or off ("0"); without a value, toggle it."""
    value = request.POST.get("enabled")
    enabled = (not elderly_mode_of(request)) if value not in {"0", "1"} else value == "1"
    elderly_mode_set(request, enabled=enabled)
    return HttpResponseRedirect(_safe_next(request))
