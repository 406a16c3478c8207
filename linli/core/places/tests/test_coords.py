import random

import pytest

from linli.core.places.coords import gcj02_to_wgs84, haversine_m, out_of_china, wgs84_to_gcj02


def test_forward_matches_the_published_reference_value():
    # The reference pair every implementation of the algorithm publishes (Tiananmen area).
    lng, lat = wgs84_to_gcj02(116.404, 39.915)
    assert lng == pytest.approx(116.41024449916938, abs=1e-9)
    assert lat == pytest.approx(39.91640428150164, abs=1e-9)


def test_offset_in_chengdu_is_a_few_hundred_metres():
    lng, lat = 104.05, 30.69
    g = wgs84_to_gcj02(lng, lat)
    assert 100 < haversine_m(lng, lat, *g) < 700


def test_round_trip_is_within_a_centimetre_everywhere_in_china():
    rng = random.Random(7)
    worst = 0.0
    for _ in range(2000):
        lng, lat = rng.uniform(73.5, 135), rng.uniform(18, 53.5)
        back = gcj02_to_wgs84(*wgs84_to_gcj02(lng, lat))
        worst = max(worst, haversine_m(lng, lat, *back))
    assert worst < 0.01


def test_outside_china_passes_through():
    assert out_of_china(2.35, 48.85)
    assert wgs84_to_gcj02(2.35, 48.85) == (2.35, 48.85)
    assert gcj02_to_wgs84(-74.0, 40.7) == (-74.0, 40.7)


def test_haversine_one_degree_of_latitude():
    assert haversine_m(104, 30, 104, 31) == pytest.approx(111_195, rel=1e-3)
