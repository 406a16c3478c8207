from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "dashboard"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="dashboard:home"), name="index"),
    path("overview/", views.home, name="home"),
    path("map/", views.map_view, name="map"),
    path("deadlines/", views.deadlines, name="deadlines"),
    path("supervise/<int:appeal_id>/", views.supervise, name="supervise"),
    path("reports/", views.reports_list, name="reports"),
    path("reports/<int:report_id>/<str:fmt>/", views.report_file, name="report_file"),
    path("definitions/", views.definitions, name="definitions"),
    path("api/summary/", views.api_summary, name="api_summary"),
    path("api/rates/", views.api_rates, name="api_rates"),
    path("api/trend/", views.api_trend, name="api_trend"),
    path("api/intake/", views.api_intake, name="api_intake"),
    path("api/handling/", views.api_handling, name="api_handling"),
    path("api/workers/", views.api_workers, name="api_workers"),
    path("api/map/", views.api_map, name="api_map"),
    path("api/area/<int:area_id>/", views.api_area, name="api_area"),
    path("api/reports/", views.api_reports, name="api_reports"),
]
