from django.contrib import admin

from .models import ApiKey, ApiToken


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """Keys are made with ``manage.py create_api_key`` (the secret is shown once); here they are read
    and revoked (untick "active")."""

    list_display = ("name", "prefix", "source", "is_active", "created_at", "last_used_at")
    list_filter = ("is_active",)
    search_fields = ("name", "prefix", "source")
    readonly_fields = ("prefix", "account", "created_at", "created_by", "revoked_at", "last_used_at")
    fields = (
        "name",
        "prefix",
        "scopes",
        "source",
        "callback_url",
        "rate",
        "is_active",
        "account",
        "created_at",
        "created_by",
        "revoked_at",
        "last_used_at",
    )

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    list_display = ("user", "prefix", "method", "created_at", "expires_at", "revoked_at", "last_used_at")
    readonly_fields = ("user", "prefix", "method", "label", "created_at", "expires_at", "last_used_at")
    search_fields = ("user__username", "prefix")

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
