from django.urls import path

from . import views

app_name = "appeals"
urlpatterns = [
    path("", views.work, name="list"),
    # residents
    path("submit/", views.submit, name="submit"),
    path("similar/", views.similar, name="similar"),
    path("mine/", views.mine, name="mine"),
    path("mine/<int:appeal_id>/", views.mine_detail, name="mine_detail"),
    path("mine/<int:appeal_id>/<str:action>/", views.mine_act, name="mine_act"),
    path("follow/", views.follow, name="follow"),
    path("following/", views.following, name="following"),
    # staff
    path("intake/", views.intake, name="intake"),
    path("queue/", views.queue, name="queue"),
    path("inbox/", views.inbox, name="inbox"),
    path("patrol/", views.patrol, name="patrol"),
    path("case/<int:appeal_id>/", views.case, name="case"),
    path("case/<int:appeal_id>/result-check/", views.result_check, name="result_check"),
    path("case/<int:appeal_id>/<str:action>/", views.case_act, name="case_act"),
    path("photo/<int:attachment_id>/", views.photo, name="photo"),
    # everyone
    path("public/", views.public, name="public"),
    path("public/photo/<int:attachment_id>/", views.public_photo, name="public_photo"),
    path("public/<str:reference>/", views.public_detail, name="public_detail"),
]
