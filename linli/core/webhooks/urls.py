from django.urls import path

from . import views

app_name = "webhooks"
urlpatterns = [
    path("", views.subscriptions, name="subscriptions"),
    path("new/", views.subscription_create, name="subscription_create"),
    path("<int:subscription_id>/", views.subscription_edit, name="subscription_edit"),
    path("<int:subscription_id>/rotate/", views.subscription_rotate, name="subscription_rotate"),
    path("<int:subscription_id>/ping/", views.subscription_ping, name="subscription_ping"),
    path("deliveries/", views.deliveries, name="deliveries"),
    path("deliveries/replay/", views.deliveries_replay, name="deliveries_replay"),
    path("deliveries/<int:delivery_id>/", views.delivery, name="delivery"),
    path("deliveries/<int:delivery_id>/replay/", views.delivery_replay, name="delivery_replay"),
]
