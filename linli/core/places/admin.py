"""Admin for the geography. Boundaries come in through the GeoJSON import page (one transaction,
every feature checked); names, population and notes can be edited here. Every change goes through
``places.services`` so paths stay right, the audit trail records it and the spatial index rebuilds."""

from __future__ import annotations

import json

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError
from django.http import HttpResponse
from django.shortcuts import redirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.translation import gettext_lazy as _

from . import services
from .choices import AreaKind
from .geojson import areas_feature_collection
from .models import Area, Building, Compound, Flat, Road


class ParentFilter(admin.SimpleListFilter):
    """Streets and communities only: a list of every grid would be useless."""

    title = _("上级")
    parameter_name = "parent"

    def lookups(self, request, model_admin):
        qs = Area.objects.exclude(kind=AreaKind.GRID).order_by("path").values_list("id", "kind", "name")
        return [(str(i), f"{AreaKind(k).label} · {n}") for i, k, n in qs]

    def queryset(self, request, queryset):
        if self.value():
            return queryset.filter(parent_id=self.value())
        return queryset


class GeoJSONUploadForm(forms.Form):
    file = forms.FileField(
        label=_("GeoJSON 文件"), help_text=_("FeatureCollection：区域（区/街道/社区/网格）和小区")
    )


@admin.register(Area)
class AreaAdmin(admin.ModelAdmin):
    list_display = ["name", "kind", "code", "parent", "population"]
    list_filter = ["kind", ParentFilter]
    search_fields = ["name", "code"]
    list_select_related = ["parent"]
    raw_id_fields = ["parent"]
    actions = ["export_geojson"]
    fields = ["kind", "code", "name", "parent", "population", "note", "path", "centroid_lng", "centroid_lat"]
    change_list_template = "admin/places/area/change_list.html"

    def get_readonly_fields(self, request, obj=None):
        fixed = ["path", "centroid_lng", "centroid_lat"]
        return fixed + (["kind", "code", "parent"] if obj else [])

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            services.area_update(
                actor=request.user,
                area=obj,
                name=data["name"],
                population=data.get("population"),
                note=data.get("note", ""),
            )
        else:
            created = services.area_create(
                actor=request.user,
                kind=data["kind"],
                code=data["code"],
                name=data["name"],
                parent=data.get("parent"),
                population=data.get("population"),
            )
            obj.pk = created.pk

    def get_urls(self):
        own = [
            path("import-geojson/", self.admin_site.admin_view(self.import_view), name="places_area_import")
        ]
        return own + super().get_urls()

    def import_view(self, request):
        if not self.has_change_permission(request) or not self.has_add_permission(request):
            return redirect("admin:index")
        form = GeoJSONUploadForm(request.POST or None, request.FILES or None)
        if request.method == "POST" and form.is_valid():
            try:
                summary = services.boundaries_import(
                    actor=request.user, data=form.cleaned_data["file"].read()
                )
            except ValidationError as exc:
                for message in exc.messages[:20]:
                    form.add_error("file", message)
            else:
                self.message_user(request, str(summary), messages.SUCCESS)
                return redirect("admin:places_area_changelist")
        context = {
            **self.admin_site.each_context(request),
            "opts": self.model._meta,
            "form": form,
            "title": _("导入 GeoJSON 边界"),
        }
        return TemplateResponse(request, "admin/places/area/import.html", context)

    @admin.action(description=_("导出所选区域为 GeoJSON"))
    def export_geojson(self, request, queryset):
        data = areas_feature_collection(queryset=queryset)
        response = HttpResponse(json.dumps(data, ensure_ascii=False), content_type="application/geo+json")
        response["Content-Disposition"] = 'attachment; filename="areas.geojson"'
        return response

    def changelist_view(self, request, extra_context=None):
        extra = {"import_url": reverse("admin:places_area_import"), **(extra_context or {})}
        return super().changelist_view(request, extra_context=extra)


@admin.register(Compound)
class CompoundAdmin(admin.ModelAdmin):
    list_display = ["name", "code", "community", "grid", "address", "built_year", "has_property_company"]
    list_filter = ["has_property_company"]
    search_fields = ["name", "aliases", "address", "code"]
    list_select_related = ["community", "grid"]
    raw_id_fields = ["community", "grid", "road"]
    fields = [
        "name",
        "code",
        "aliases",
        "community",
        "grid",
        "address",
        "road",
        "centroid_lng",
        "centroid_lat",
        "built_year",
        "has_property_company",
        "note",
        "path",
    ]

    def get_readonly_fields(self, request, obj=None):
        return ["path"] + (["community", "grid"] if obj else [])

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if change:
            changed = {f: data[f] for f in form.changed_data if f not in ("community", "grid")}
            if changed:
                services.compound_update(actor=request.user, compound=obj, **changed)
        else:
            extra = {
                k: data[k]
                for k in ("code", "aliases", "address", "road", "built_year", "has_property_company", "note")
                if k in data
            }
            created = services.compound_create(
                actor=request.user,
                community=data["community"],
                grid=data.get("grid"),
                name=data["name"],
                centroid=(data["centroid_lng"], data["centroid_lat"]),
                **extra,
            )
            obj.pk = created.pk


class ReadOnly(admin.ModelAdmin):
    """Buildings, flats and roads are kept by the register pages and the demo loader."""

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Building)
class BuildingAdmin(ReadOnly):
    list_display = ["name", "compound", "grid", "floors", "units"]
    search_fields = ["name", "compound__name"]
    list_select_related = ["compound", "grid"]


@admin.register(Flat)
class FlatAdmin(ReadOnly):
    list_display = ["__str__", "floor", "floor_area", "area_source", "is_rental"]
    list_filter = ["area_source", "is_rental"]
    search_fields = ["building__compound__name", "room"]
    list_select_related = ["building__compound"]


@admin.register(Road)
class RoadAdmin(ReadOnly):
    list_display = ["name", "street"]
    search_fields = ["name"]
    list_select_related = ["street"]
