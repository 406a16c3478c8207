"""Admin for accounts. Phones are shown masked and never edited here (a resident's number is their
sign-in); TOTP is only switched off, through the service, for someone who lost their phone."""

from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.forms import AdminUserCreationForm, UserChangeForm
from django.utils.translation import gettext_lazy as _

from linli.core.audit.services import audit_record
from linli.core.orgs.models import Membership
from linli.core.privacy.lookup import phone_hash
from linli.core.privacy.masking import mask_phone

from . import services
from .models import OneTimeCode, User


class LinliUserCreationForm(AdminUserCreationForm):
    class Meta(AdminUserCreationForm.Meta):
        model = User
        fields = ("username", "display_name")


class LinliUserChangeForm(UserChangeForm):
    class Meta(UserChangeForm.Meta):
        model = User
        fields = "__all__"


class MembershipInline(admin.TabularInline):
    """Read-only here: memberships are granted and revoked in their own admin, through the services."""

    model = Membership
    fk_name = "user"
    extra = 0
    can_delete = False
    show_change_link = True
    fields = ["organisation", "role", "jurisdiction", "title", "is_active", "since"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(DjangoUserAdmin):
    form = LinliUserChangeForm
    add_form = LinliUserCreationForm
    list_display = [
        "username",
        "display_name",
        "kind",
        "phone_masked",
        "totp_enabled",
        "is_active",
        "is_staff",
        "last_login",
    ]
    list_filter = ["kind", "totp_enabled", "is_active", "is_staff", "is_superuser"]
    search_fields = ["username", "display_name"]
    ordering = ["username"]
    readonly_fields = ["phone_masked", "totp_enabled", "last_login", "date_joined"]
    raw_id_fields = ["person"]
    inlines = [MembershipInline]
    actions = ["totp_reset"]
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (
            _("个人信息"),
            {"fields": ("kind", "display_name", "phone_masked", "person", "language", "elderly_mode")},
        ),
        (_("安全"), {"fields": ("totp_enabled", "is_active")}),
        (_("权限"), {"fields": ("is_staff", "is_superuser", "groups", "user_permissions")}),
        (_("时间"), {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "display_name", "usable_password", "password1", "password2"),
            },
        ),
    )

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []

    @admin.display(description=_("手机号"))
    def phone_masked(self, obj):
        return mask_phone(obj.phone)

    def get_search_results(self, request, queryset, search_term):
        """A full phone number finds its account through the keyed hash (never a plaintext search)."""
        results, may_have_duplicates = super().get_search_results(request, queryset, search_term)
        try:
            digest = phone_hash(search_term)
        except Exception:  # noqa: BLE001 - not a phone number: the ordinary search stands
            return results, may_have_duplicates
        return results | queryset.filter(phone_hash=digest), may_have_duplicates

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        changed = [f for f in form.changed_data if not f.startswith("password") and f != "usable_password"]
        audit_record(
            actor=request.user,
            action="accounts.admin_update" if change else "accounts.admin_create",
            obj=obj,
            changes={"fields": changed},
        )

    @admin.action(description=_("关闭所选账号的动态口令（手机丢失时）"))
    def totp_reset(self, request, queryset):
        count = 0
        for user in queryset.filter(totp_enabled=True):
            services.totp_reset(actor=request.user, user=user, reason="admin")
            count += 1
        self.message_user(request, _("已关闭 %(n)d 个账号的动态口令") % {"n": count}, messages.SUCCESS)

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(OneTimeCode)
class OneTimeCodeAdmin(admin.ModelAdmin):
    """Read-only: for looking into a resident's "the code never came" (the code itself is not stored)."""

    list_display = ["id", "phone_hash_short", "created_at", "expires_at", "attempts", "used_at"]
    list_filter = ["created_at"]
    fields = ["phone_hash", "created_at", "expires_at", "attempts", "used_at"]
    readonly_fields = fields

    @admin.display(description=_("号码摘要"))
    def phone_hash_short(self, obj):
        return obj.phone_hash[:12] + "…"

    def get_search_results(self, request, queryset, search_term):
        if not search_term:
            return queryset, False
        try:
            return queryset.filter(phone_hash=phone_hash(search_term)), False
        except Exception:  # noqa: BLE001 - not a phone number
            return queryset.none(), False

    search_fields = ["phone_hash"]  # the box takes a phone number; see get_search_results

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
