"""The geography version is read from the shared cache at most once per interval per process; a
change made in this process is seen at once."""

from django.core.cache import cache

from linli.core.places import index
from linli.core.places.services import bump_geography_version


def test_the_version_is_remembered_for_a_moment(settings):
    settings.LINLI_GEOGRAPHY_CHECK_SECONDS = 60
    index.forget_version()
    first = index.geography_version()
    cache.set(index.VERSION_KEY, first + 5, None)  # another process moved it
    assert index.geography_version() == first  # not read again within the interval
    index.forget_version()
    assert index.geography_version() == first + 5


def test_a_change_in_this_process_is_seen_at_once(settings):
    settings.LINLI_GEOGRAPHY_CHECK_SECONDS = 60
    index.forget_version()
    before = index.geography_version()
    bump_geography_version()
    assert index.geography_version() == before + 1


def test_no_interval_reads_every_time(settings):
    settings.LINLI_GEOGRAPHY_CHECK_SECONDS = 0
    index.geography_version()
    cache.set(index.VERSION_KEY, 41, None)
    assert index.geography_version() == 41
