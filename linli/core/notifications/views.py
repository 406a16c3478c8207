from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

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
