"""Admin views of the register: read-only, masked. Changes go through the register pages and the
services, so they are checked and audited; the admin never shows an ID number or phone in full."""

from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from linli.core.privacy.masking import mask_id_number, mask_phone

from .models import Household, HouseholdMember, Person, PersonTag


class ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class PersonTagInline(admin.TabularInline):
    model = PersonTag
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class MemberInline(admin.TabularInline):
    model = HouseholdMember
    extra = 0
    can_delete = False
    fields = ["person", "relation", "joined_on", "left_on"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Person)
class PersonAdmin(ReadOnlyAdmin):
    list_display = ["name", "gender", "birth_date", "masked_id_number", "masked_phone", "grid", "erased_at"]
    list_filter = ["gender", "tags__tag", "erased_at"]
    search_fields = ["name"]
    fields = [
        "name",
        "gender",
        "birth_date",
        "ethnic_group",
        "masked_id_number",
        "masked_phone",
        "grid",
        "path",
        "note",
        "created_at",
        "updated_at",
        "erased_at",
    ]
    readonly_fields = fields
    inlines = [PersonTagInline]
    list_select_related = ["grid"]

    @admin.display(description=_("身份证号"))
    def masked_id_number(self, obj):
        return mask_id_number(obj.id_number)

    @admin.display(description=_("联系电话"))
    def masked_phone(self, obj):
        return mask_phone(obj.phone)


@admin.register(Household)
class HouseholdAdmin(ReadOnlyAdmin):
    list_display = ["__str__", "grid", "tenure", "registered_on", "moved_out_on"]
    list_filter = ["tenure"]
    search_fields = ["flat__building__compound__name"]
    list_select_related = ["flat__building__compound", "grid"]
    inlines = [MemberInline]


@admin.register(HouseholdMember)
class HouseholdMemberAdmin(ReadOnlyAdmin):
    list_display = ["person", "household", "relation", "joined_on", "left_on"]
    list_filter = ["relation"]
    list_select_related = ["person", "household__flat__building__compound"]
    search_fields = ["person__name"]
