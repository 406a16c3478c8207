from django.contrib import admin

from .models import Report


@admin.register(Report)
class ReportAdmin(admin.ModelAdmin):
    list_display = ("__str__", "scope_key", "status", "progress", "seconds", "created_at")
    list_filter = ("kind", "status")
    readonly_fields = [f.name for f in Report._meta.fields]
