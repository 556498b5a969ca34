"""The words of riders' notices (api.services.notice_texts): German and English, local times, places by
name, the booking reference, and an e-mail with plain text and HTML."""

from __future__ import annotations

from api.db.models import NoticeKind
from api.services.notice_texts import Agency, language_of, mail_text, notice_text
from tests.api.conftest import ZONE

AGENCY = Agency("Rufbus Unterland", "+423 000 00 00", "https://rufbus.example/")
DATA = {"reference": "a1b2c3", "window": ["2026-11-23T08:00:00+00:00", "2026-11-23T08:15:00+00:00"],
        "latest_arrival": "2026-11-23T08:40:00+00:00", "pickup": "Vaduz Post", "dropoff": "Schaan Bahnhof"}


def test_a_confirmation_in_german_names_the_local_window_the_places_and_the_reference() -> None:
    """08:00–08:15 UTC is 09:00–09:15 in Vaduz on Monday 23 November."""
    words = notice_text(NoticeKind.BOOKING_CONFIRMED, DATA, language="de", zone=ZONE, agency=AGENCY)
    assert words.title == "Buchung bestätigt: Mo, 23.11.2026, 09:00–09:15 Uhr"
    assert "Einstieg: Vaduz Post" in words.lines and "Buchungsnummer: a1b2c3" in words.lines
    assert "Ausstieg: Schaan Bahnhof, Ankunft spätestens 09:40 Uhr" in words.lines


def test_a_changed_pickup_in_english_tells_the_new_window_the_old_end_and_the_estimate() -> None:
    """A window moved to end at 09:47 (it ended at 09:15), the bus expected at 09:42."""
    data = DATA | {"window": ["2026-11-23T08:00:00+00:00", "2026-11-23T08:47:00+00:00"],
                   "previous_window_end": "2026-11-23T08:15:00+00:00",
                   "planned_pickup": "2026-11-23T08:42:00+00:00"}
    words = notice_text(NoticeKind.PICKUP_CHANGED, data, language="en", zone=ZONE, agency=AGENCY)
    assert words.title == "New pickup time: Mon 23 Nov 2026, 09:00–09:47"
    assert "(previously until 09:15)" in words.summary and "expected at 09:42" in words.summary
    assert "Booking reference: a1b2c3" in words.lines


def test_a_cancellation_says_why_and_how_to_rebook() -> None:
    """By an operator, or because the bus is out of service; the agency's phone is offered; a stop point
    without a name is described, never located."""
    by_operator = notice_text(NoticeKind.BOOKING_CANCELLED, DATA | {"reason": "operator"}, language="de",
                              zone=ZONE, agency=AGENCY)
    assert "Rufbus Unterland hat Ihre Fahrt storniert." in by_operator.lines
    assert "rufen Sie uns an: +423 000 00 00" in by_operator.summary
    withdrawn = notice_text(NoticeKind.BOOKING_CANCELLED,
                            DATA | {"reason": "vehicle_out_of_service", "pickup": ""}, language="en",
                            zone=ZONE, agency=Agency("Rufbus", None, "http://x"))
    assert "Your bus is out of service" in withdrawn.summary and "call us" not in withdrawn.summary
    assert "from your stop point (see the app)" in withdrawn.summary


def test_the_mail_has_a_greeting_the_lines_the_app_link_and_escaped_html() -> None:
    """A place name with markup characters is escaped in the HTML part."""
    data = DATA | {"pickup": "Post <Vaduz> & Co"}
    words = notice_text(NoticeKind.BOOKING_CONFIRMED, data, language="en", zone=ZONE, agency=AGENCY)
    mail = mail_text(words, language="en", agency=AGENCY)
    assert mail.subject == words.title and mail.text.startswith("Hello,\n\nYour ride is booked.")
    assert "Your bookings: https://rufbus.example/app" in mail.text
    assert "Post &lt;Vaduz&gt; &amp; Co" in mail.html and "<Vaduz>" not in mail.html
    assert '<html lang="en">' in mail.html


def test_riders_are_written_to_in_their_language_else_the_agencys() -> None:
    """Any German tag is German; a language without texts is English."""
    assert language_of("en", "de") == "en" and language_of(None, "de") == "de"
    assert language_of(None, "de-CH") == "de" and language_of(None, "fr") == "en"
