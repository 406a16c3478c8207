"""The public statistics page and open-data downloads (no sign-in), mounted at /statistics/."""

from django.urls import path

from . import views

app_name = "public_stats"
urlpatterns = [
    path("", views.public_stats, name="home"),
    path("definitions/", views.definitions, name="definitions"),
    path("data.<str:fmt>", views.open_data, name="open_data"),
]
