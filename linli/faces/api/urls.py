import os

from django.conf import settings
from django.urls import path

from .router import api

urlpatterns = [path("", api.urls)]

if settings.DEBUG or os.environ.get("LINLI_BENCH_VIEWS") == "1":
    from .bench_views import bench_insert

    urlpatterns.insert(0, path("_bench/insert", bench_insert, name="bench_insert"))
