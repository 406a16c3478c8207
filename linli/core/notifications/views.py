from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from .models import Notification
from .selectors import inbox_for, unread_count
from .services import notification_mark_read


@login_required
def inbox(request):
    page = Paginator(inbox_for(request.user), 30).get_page(request.GET.get("page"))
    return render(request, "notifications/inbox.html", {"page": page, "unread": unread_count(request.user)})


@login_required
@require_POST
def mark_read(request):
    ids = request.POST.getlist("id") or None
    notification_mark_read(actor=request.user, ids=[int(i) for i in ids if i.isdigit()] if ids else None)
    return redirect("notifications:inbox")


@login_required
def open_notice(request, pk: int):
    """Follow a notice's link, marking it read on the way (only the recipient's own notices)."""
    notice = get_object_or_404(Notification, pk=pk, recipient=request.user)
    if notice.read_at is None:
        notification_mark_read(actor=request.user, ids=[notice.pk])
    inside = url_has_allowed_host_and_scheme(notice.url, allowed_hosts={request.get_host()})
    return redirect(notice.url if notice.url and inside else "notifications:inbox")
