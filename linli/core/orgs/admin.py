"""Admin for organisations and memberships. Memberships are granted and revoked through the services,
so each change lands in the audit trail."""

from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from linli.core.audit.services import audit_record

from . import services
from .models import Membership, Organisation


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "area", "parent", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name", "code"]
    autocomplete_fields = ["parent"]
    raw_id_fields = ["area", "compound"]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        audit_record(
            actor=request.user,
            action="organisation.update" if change else "organisation.create",
            obj=obj,
            changes={f: str(form.cleaned_data.get(f)) for f in form.changed_data},
        )

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Membership)
class MembershipAdmin(admin.ModelAdmin):
    list_display = ["user", "organisation", "role", "jurisdiction", "title", "is_active"]
    list_filter = ["role", "is_active", "organisation__kind"]
    search_fields = ["user__username", "user__display_name", "organisation__name"]
    raw_id_fields = ["user", "organisation", "jurisdiction"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        # An existing membership is only ended (revoke action), never edited in place.
        if obj is not None:
            return [
                "user",
                "organisation",
                "role",
                "jurisdiction",
                "title",
                "is_unit_leader",
                "is_active",
                "since",
            ]
        return ["is_active"]

    def save_model(self, request, obj, form, change):
        if change:
            return
        try:
            services.membership_grant(
                actor=request.user,
                user=obj.user,
                organisation=obj.organisation,
                role=obj.role,
                jurisdiction=obj.jurisdiction,
                title=obj.title,
                is_unit_leader=obj.is_unit_leader,
                since=obj.since,
            )
        except ValidationError as exc:
            self.message_user(request, "; ".join(exc.messages), level=messages.ERROR)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.action(description=_("终止所选任职"))
    def revoke(self, request, queryset):
        for membership in queryset.filter(is_active=True):
            services.membership_revoke(actor=request.user, membership=membership, reason="admin")
