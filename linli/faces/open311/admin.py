from django.contrib import admin

from .models import PendingRequest


@admin.register(PendingRequest)
class PendingRequestAdmin(admin.ModelAdmin):
    """Open311 requests answered with a token: read only (the worker files them; a stuck one is
    queued again by ``open311_pending_sweep``). The submission itself, which holds the reporter's
    name and phone, is not shown."""

    list_display = ("token", "api_key", "status", "appeal", "attempts", "created_at", "processed_at")
    list_filter = ("status",)
    search_fields = ("token", "appeal__reference")
    fields = (
        "token",
        "api_key",
        "status",
        "appeal",
        "media_url",
        "attempts",
        "note",
        "created_at",
        "processed_at",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
