from django.urls import path

from . import views

app_name = "accounts"
urlpatterns = [
    path("resident/", views.resident_login, name="resident_login"),
    path("resident/code/", views.resident_code, name="resident_code"),
    path("login/", views.staff_login, name="login"),
    path("login/totp/", views.login_totp, name="login_totp"),
    path("logout/", views.logout_view, name="logout"),
    path("profile/", views.profile, name="profile"),
    path("totp/", views.totp_setup, name="totp_setup"),
    path("totp/qr.svg", views.totp_qr, name="totp_qr"),
]
