"""Read-only views of smart triage's records in Django's admin; changes go through the triage pages
(/triage/models/, /triage/imports/), which call the services and keep the audit trail."""

from django.contrib import admin

from .models import TrainingSet, TriageCorrection, TriageModel, TriagePrediction


class ReadOnly(admin.ModelAdmin):
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(TriageModel)
class TriageModelAdmin(ReadOnly):
    list_display = (
        "version",
        "status",
        "macro_f1",
        "accuracy",
        "n_train",
        "size_bytes",
        "created_at",
        "activated_at",
    )
    list_filter = ("status",)


@admin.register(TrainingSet)
class TrainingSetAdmin(ReadOnly):
    list_display = ("name", "rows", "is_active", "uploaded_at", "uploaded_by")


@admin.register(TriagePrediction)
class TriagePredictionAdmin(ReadOnly):
    list_display = ("appeal", "model", "category", "probability", "confidence", "created_at")
    list_select_related = ("appeal", "model", "category")


@admin.register(TriageCorrection)
class TriageCorrectionAdmin(ReadOnly):
    list_display = (
        "appeal",
        "kind",
        "predicted_category",
        "chosen_category",
        "predicted_unit",
        "chosen_unit",
        "by",
        "at",
    )
    list_filter = ("kind",)
    list_select_related = (
        "appeal",
        "predicted_category",
        "chosen_category",
        "predicted_unit",
        "chosen_unit",
        "by",
    )
