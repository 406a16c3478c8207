from django.conf import settings
from django.conf.urls.static import static
from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
    path("accounts/", include("linli.core.accounts.urls")),
    path("places/", include("linli.core.places.urls")),
    path("register/", include("linli.core.people.urls")),
    path("orgs/", include("linli.core.orgs.urls")),
    path("inbox/", include("linli.core.notifications.urls")),
    path("appeals/", include("linli.domains.appeals.urls")),
    path("triage/", include("linli.domains.triage.urls")),
    path("audit/", include("linli.core.audit.urls")),
    path("api/v1/", include("linli.faces.api.urls")),
    path("webhooks/", include("linli.core.webhooks.urls")),
    path("feeds/", include("linli.faces.feeds.urls")),
    path("exports/", include("linli.faces.feeds.export_urls")),
    path("open311/", include("linli.faces.open311.urls")),
    path("dashboard/", include("linli.faces.dashboard.urls")),
    path("hot-issues/", include("linli.domains.triage.hot_urls")),
    path("statistics/", include("linli.faces.dashboard.public_urls")),
    path("", include("linli.faces.web.urls")),
]
if settings.DEBUG:
    urlpatterns += static(settings.MEDIA_URL, document_root=settings.MEDIA_ROOT)
