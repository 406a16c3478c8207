from django.urls import path, re_path

from . import views

app_name = "open311"

FMT = r"(?:\.(?P<fmt>[a-z]+))?$"

urlpatterns = [
    path("v2/", views.discovery, name="root"),
    re_path(r"^v2/discovery" + FMT, views.discovery, name="discovery"),
    re_path(r"^v2/services" + FMT, views.service_list, name="services"),
    re_path(r"^v2/services/(?P<code>[^/]+?)" + FMT, views.service_definition, name="service"),
    re_path(r"^v2/requests" + FMT, views.requests, name="requests"),
    re_path(r"^v2/requests/(?P<request_id>[^/]+?)" + FMT, views.request_detail, name="request"),
    re_path(r"^v2/tokens/(?P<token>[^/]+?)" + FMT, views.token_detail, name="token"),
]
