"""The public map of the district: boundaries only, no personal data."""

from django.conf import settings
from django.shortcuts import render
from django.urls import reverse


def map_view(request):
    context = {
        "areas_url": reverse("api:places_areas_geojson"),
        "compounds_url": reverse("api:places_compounds_geojson"),
        "locate_url": reverse("api:places_locate"),
        "search_url": reverse("api:places_search"),
        "tile_url": settings.LINLI_TILE_URL,
        "tile_attribution": getattr(settings, "LINLI_TILE_ATTRIBUTION", ""),
    }
    return render(request, "places/map.html", context)
