"""Administrators configure categories and routing rules here. Appeals themselves change only through
the services (workspaces, API), so they are not editable in the admin."""

from django.contrib import admin

from linli.core.audit.services import audit_record

from .models import Category, RoutingRule


class AuditedAdmin(admin.ModelAdmin):
    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action=f"{obj._meta.model_name}.{'update' if change else 'create'}",
            obj=obj,
            changes={k: str(form.cleaned_data.get(k)) for k in form.changed_data},
        )

    def has_delete_permission(self, request, obj=None):
        return False  # deactivate instead: nothing is ever deleted


@admin.register(Category)
class CategoryAdmin(AuditedAdmin):
    list_display = (
        "code",
        "name",
        "parent",
        "default_unit_kind",
        "normal_limit",
        "normal_unit",
        "urgent_limit",
        "urgent_unit",
        "is_public",
        "is_active",
    )
    list_filter = ("parent", "is_public", "is_active", "default_unit_kind")
    search_fields = ("code", "name")


@admin.register(RoutingRule)
class RoutingRuleAdmin(AuditedAdmin):
    list_display = ("category", "area", "lead_unit", "priority", "is_active")
    list_filter = ("is_active", "category__parent")
    search_fields = ("category__name", "lead_unit__name", "area__name")
    autocomplete_fields = ()
    filter_horizontal = ("assisting_units",)
