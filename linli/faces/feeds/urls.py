from django.urls import path
from django.views.decorators.http import require_GET

from . import feeds

app_name = "feeds"
urlpatterns = [
    path("results.atom", require_GET(feeds.ResultsAtomFeed()), name="results_atom"),
    path("results.json", require_GET(feeds.results_json), name="results_json"),
]
