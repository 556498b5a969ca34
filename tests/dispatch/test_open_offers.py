"""Forgetting open offers (dispatch.open_offers): expired ones from the front, the oldest past the bound."""

from dispatch.open_offers import forget_expired


def offers(*valid_until: int) -> dict[str, int]:
    """Offers named o0, o1, … in the order made, each with its end of validity."""
    return {f"o{k}": until for k, until in enumerate(valid_until)}


def test_the_expired_offers_at_the_front_are_forgotten_and_the_valid_ones_kept():
    open_offers = offers(100, 110, 120, 130)
    forget_expired(open_offers, 115, lambda until: until, limit=10)
    assert list(open_offers) == ["o2", "o3"]


def test_an_offer_valid_until_now_is_kept():
    open_offers = offers(100, 120)
    forget_expired(open_offers, 100, lambda until: until, limit=10)
    assert list(open_offers) == ["o0", "o1"]


def test_at_the_bound_the_oldest_valid_offer_makes_room_for_the_next():
    open_offers = offers(200, 210, 220)
    forget_expired(open_offers, 100, lambda until: until, limit=3)
    assert list(open_offers) == ["o1", "o2"]
    open_offers["o3"] = 230
    forget_expired(open_offers, 100, lambda until: until, limit=3)
    assert list(open_offers) == ["o2", "o3"]


def test_an_expired_offer_behind_a_valid_one_waits_for_it():
    """After the validity was shortened, a later offer may expire first: it stays until the older goes."""
    open_offers = offers(300, 150, 310)
    forget_expired(open_offers, 200, lambda until: until, limit=10)
    assert list(open_offers) == ["o0", "o1", "o2"]
    forget_expired(open_offers, 305, lambda until: until, limit=10)
    assert list(open_offers) == ["o2"]


def test_nothing_open_is_nothing_to_forget():
    open_offers: dict[str, int] = {}
    forget_expired(open_offers, 100, lambda until: until, limit=1)
    assert open_offers == {}
