from django.urls import path

from . import hot_views

app_name = "hot_issues"
urlpatterns = [
    path("", hot_views.hot_issues, name="list"),
]
