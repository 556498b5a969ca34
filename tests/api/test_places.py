"""The riders' place search, ``GET /v1/places/search`` (public), on the service's real extract."""

from __future__ import annotations

import pytest


def found(client, q: str, **params) -> list[dict]:
    answer = client.get("/v1/places/search", params={"q": q, **params})
    assert answer.status_code == 200, answer.text
    return answer.json()


def test_a_street_and_house_number_is_found_with_where_the_bus_stops(module_client):
    """'Städtle 43' finds the address first, inside the area, with the curb point a quote would use: on a
    named road, a short walk away."""
    first = found(module_client, "Städtle 43")[0]
    assert (first["kind"], first["label"], first["in_area"]) == ("address", "Städtle 43, 9490 Vaduz", True)
    stop = first["stop_point"]
    assert stop["walk_m"] < 300 and stop["street"]
    assert abs(stop["lat"] - first["lat"]) < 0.005 and abs(stop["lon"] - first["lon"]) < 0.005


def test_case_and_accents_do_not_matter(module_client):
    """'STADTLE 43' and 'städtle 43' give the same first hit; 'muhle' finds names with 'Mühle'."""
    assert found(module_client, "STADTLE 43")[0]["id"] == found(module_client, "städtle 43")[0]["id"]
    assert any("Mühle" in hit["name"] for hit in found(module_client, "muhle"))


def test_a_place_outside_the_service_area_is_flagged_and_listed_after_those_inside(module_client):
    """Balzers lies south of the road graph's area: it is found, with ``in_area`` false and no stop point,
    after every hit inside."""
    hits = found(module_client, "balzers", limit=20)
    outside = [hit for hit in hits if not hit["in_area"]]
    assert any(hit["kind"] == "place" and hit["name"] == "Balzers" for hit in outside)
    assert all(hit["stop_point"] is None for hit in outside)
    flags = [hit["in_area"] for hit in hits]
    assert flags == sorted(flags, reverse=True)


def test_limit_bounds_the_answer(module_client):
    """``limit`` caps the hits; 'vaduz' has more than three."""
    assert len(found(module_client, "vaduz", limit=3)) == 3
    assert len(found(module_client, "vaduz", limit=20)) > 3


@pytest.mark.parametrize("params", [{"q": ""}, {"q": "\x00"}, {"q": "vaduz\x00"}, {"q": "a" * 101},
                                    {"q": " -- "}, {}, {"q": "vaduz", "limit": 0},
                                    {"q": "vaduz", "limit": 21}, {"q": "vaduz", "limit": "many"}])
def test_an_empty_or_oversized_query_or_a_limit_out_of_range_is_422(module_client, params):
    """No words, a control character, over 100 characters, no q at all or a limit outside 1..20:
    422 ``invalid_request``, never a 500."""
    answer = module_client.get("/v1/places/search", params=params)
    assert answer.status_code == 422
    assert answer.json()["code"] == "invalid_request"


def test_a_query_matching_nothing_is_an_empty_list(module_client):
    """Words nothing starts with: 200 and no hits."""
    assert found(module_client, "qqxz") == []


def test_every_worker_answers_the_search_itself():
    """The search does not act on the plan: a follower worker answers it without forwarding it to the
    dispatcher (tiles are outside /v1/ anyway)."""
    from api.live.forwarding import forwardable

    assert not forwardable({"type": "http", "path": "/v1/places/search"})
    assert not forwardable({"type": "http", "path": "/map/tiles/14/8626/5749.pbf"})
