from django.utils import timezone
from django_tasks import task

from linli.core.accounts.sms import send_sms

from .models import Notification


@task()
def send_sms_copies(notification_ids: list[int]) -> int:
    """Send each notification once by SMS; rows already sent are skipped, so a retry is harmless."""
    sent = 0
    for n in Notification.objects.filter(pk__in=notification_ids, sms_sent_at__isnull=True).select_related(
        "recipient"
    ):
        phone = n.recipient.phone
        if not phone:
            continue
        # Claim the row first so two workers never both send it.
        if Notification.objects.filter(pk=n.pk, sms_sent_at__isnull=True).update(sms_sent_at=timezone.now()):
            send_sms(phone=phone, text=f"【邻里】{n.title}")
            sent += 1
    return sent
