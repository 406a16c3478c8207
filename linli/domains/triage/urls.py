from django.urls import path

from . import views

app_name = "triage"
urlpatterns = [
    path("suggest/", views.suggest_view, name="suggest"),
    path("queue/", views.queue, name="queue"),
    path("models/", views.models_view, name="models"),
    path("models/rollback/", views.model_rollback, name="model_rollback"),
    path("models/<int:version>/", views.model_detail, name="model_detail"),
    path("models/<int:version>/progress/", views.model_progress, name="model_progress"),
    path("models/<int:version>/<str:action>/", views.model_act, name="model_act"),
    path("imports/", views.imports, name="imports"),
    path("imports/<int:set_id>/", views.import_detail, name="import_detail"),
]
