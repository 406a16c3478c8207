from django.urls import path

from . import views

app_name = "exports"
urlpatterns = [
    path("cases/", views.export_page, name="cases"),
    path("cases.csv", views.export_csv, name="cases_csv"),
    path("cases.xlsx", views.export_xlsx, name="cases_xlsx"),
]
