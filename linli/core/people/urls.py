from django.urls import path
from django.views.generic import RedirectView

from . import views

app_name = "people"
urlpatterns = [
    path("", RedirectView.as_view(pattern_name="people:household_list"), name="index"),
    path("households/", views.household_list, name="household_list"),
    path("households/<int:household_id>/", views.household_detail, name="household_detail"),
    path(
        "households/<int:household_id>/members/new/", views.household_member_new, name="household_member_new"
    ),
    path(
        "households/<int:household_id>/members/<int:person_id>/leave/",
        views.household_member_leave,
        name="household_member_leave",
    ),
    path("persons/", views.person_list, name="person_list"),
    path("persons/<int:person_id>/", views.person_detail, name="person_detail"),
    path("persons/<int:person_id>/edit/", views.person_edit, name="person_edit"),
    path("persons/<int:person_id>/reveal/", views.person_reveal, name="person_reveal"),
    path("persons/<int:person_id>/export/", views.person_export, name="person_export"),
    path("persons/<int:person_id>/erase/", views.person_erase, name="person_erase"),
    path("import/", views.register_import, name="import"),
    path("import/template.xlsx", views.import_template, name="import_template"),
]
