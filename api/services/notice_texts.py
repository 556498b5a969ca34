"""The words of riders' notices, in German and English: one title and a few lines per kind, made from a
notice's ``data`` (:mod:`api.services.notifications`), shown in the app and sent as an e-mail (plain text
and simple HTML). Places are named (the meeting point, the street the bus stops in), never given as
coordinates; times are local to the service's zone; every text names the booking reference.
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from datetime import datetime, tzinfo
from typing import TYPE_CHECKING, Any

from api.db.models import Notice, NoticeKind, NotificationPreferences
from api.schemas import NoticePublic

if TYPE_CHECKING:
    from api.settings import Settings

LANGUAGES = ("de", "en")
_WEEKDAYS = {"de": ("Mo", "Di", "Mi", "Do", "Fr", "Sa", "So"),
             "en": ("Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun")}
_MONTHS_EN = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")


@dataclass(frozen=True, slots=True)
class Agency:
    """Who the rider deals with, as the texts name it: name, booking phone (optional) and the service's
    public address (the rider app is at ``/app`` under it)."""

    name: str
    phone: str | None
    public_url: str


@dataclass(frozen=True, slots=True)
class NoticeText:
    """A notice in words: a title (the e-mail's subject) and its lines."""

    title: str
    lines: tuple[str, ...]

    @property
    def summary(self) -> str:
        """The lines as one text, as the app shows it."""
        return "\n".join(self.lines)


@dataclass(frozen=True, slots=True)
class MailText:
    """A notice as an e-mail: subject, plain text and HTML."""

    subject: str
    text: str
    html: str


def language_of(preferred: str | None, agency_lang: str) -> str:
    """The language a rider is written to: theirs if set, else the agency's; German for any ``de`` tag,
    English otherwise."""
    tag = (preferred or agency_lang).lower()
    return "de" if tag.split("-")[0] == "de" else "en"


def notice_text(kind: NoticeKind, data: dict[str, Any], *, language: str, zone: tzinfo, agency: Agency
                ) -> NoticeText:
    """The title and lines of a notice of ``kind`` in ``language`` (``de`` or ``en``)."""
    words = _Words(language, zone)
    start, end = (words.moment(t) for t in data["window"])
    day, window = words.day(start), f"{words.clock(start)}–{words.clock(end)}"
    pickup, dropoff = words.place(data.get("pickup", "")), words.place(data.get("dropoff", ""))
    arrival = words.clock(words.moment(data["latest_arrival"]))
    reference = words.reference(data["reference"])
    if kind is NoticeKind.BOOKING_CONFIRMED:
        if language == "de":
            return NoticeText(f"Buchung bestätigt: {day}, {window} Uhr", (
                "Ihre Fahrt ist gebucht.", f"Abholung: {day} zwischen {window} Uhr", f"Einstieg: {pickup}",
                f"Ausstieg: {dropoff}, Ankunft spätestens {arrival} Uhr", reference))
        return NoticeText(f"Booking confirmed: {day}, {window}", (
            "Your ride is booked.", f"Pickup: {day} between {window}", f"Board at: {pickup}",
            f"Alight at: {dropoff}, arriving by {arrival}", reference))
    if kind is NoticeKind.PICKUP_CHANGED:
        before = words.clock(words.moment(data["previous_window_end"]))
        planned = data.get("planned_pickup")
        if language == "de":
            expected = (f"Der Bus kommt voraussichtlich um {words.clock(words.moment(planned))} Uhr.",) \
                if planned else ()
            return NoticeText(f"Neue Abholzeit: {day}, {window} Uhr", (
                f"Ihr Bus verspätet sich. Neue Abholzeit: {day} zwischen {window} Uhr "
                f"(bisher bis {before} Uhr).",
                *expected, f"Einstieg: {pickup}", f"Ankunft spätestens {arrival} Uhr", reference))
        expected = (f"The bus is expected at {words.clock(words.moment(planned))}.",) if planned else ()
        return NoticeText(f"New pickup time: {day}, {window}", (
            f"Your bus is running late. New pickup time: {day} between {window} "
            f"(previously until {before}).",
            *expected, f"Board at: {pickup}", f"Arriving by {arrival}", reference))
    reason = data.get("reason", "operator")
    call = "" if not agency.phone else \
        f" oder rufen Sie uns an: {agency.phone}" if language == "de" else f" or call us: {agency.phone}"
    if language == "de":
        why = "Der Bus fällt aus, und kein anderer Bus kann Sie rechtzeitig abholen." \
            if reason == "vehicle_out_of_service" else f"{agency.name} hat Ihre Fahrt storniert."
        return NoticeText(f"Fahrt storniert: {day}, {window} Uhr", (
            f"Ihre Fahrt am {day} zwischen {window} Uhr ab {pickup} findet nicht statt.", why,
            f"Bitte buchen Sie eine neue Fahrt{call}.", reference))
    why = "Your bus is out of service and no other bus can pick you up in time." \
        if reason == "vehicle_out_of_service" else f"{agency.name} cancelled your ride."
    return NoticeText(f"Ride cancelled: {day}, {window}", (
        f"Your ride on {day} between {window} from {pickup} will not take place.", why,
        f"Please book a new ride{call}.", reference))


def mail_text(notice: NoticeText, *, language: str, agency: Agency) -> MailText:
    """``notice`` as an e-mail: a greeting, its lines, and a footer with the way to the rider app."""
    greeting = "Guten Tag," if language == "de" else "Hello,"
    app = f"{agency.public_url.rstrip('/')}/app"
    footer = (f"Ihre Buchungen: {app}" if language == "de" else f"Your bookings: {app}", agency.name)
    text = "\n".join((greeting, "", *notice.lines, "", *footer)) + "\n"
    body = "".join(f"<p>{html.escape(line)}</p>" for line in notice.lines)
    page = (f'<!doctype html><html lang="{language}"><head><meta charset="utf-8">'
            f"<title>{html.escape(notice.title)}</title></head><body><p>{html.escape(greeting)}</p>{body}"
            f'<p><a href="{html.escape(app, quote=True)}">{html.escape(footer[0])}</a><br>'
            f"{html.escape(agency.name)}</p></body></html>")
    return MailText(notice.title, text, page)


@dataclass(frozen=True, slots=True)
class _Words:
    language: str
    zone: tzinfo

    def moment(self, instant: str) -> datetime:
        return datetime.fromisoformat(instant).astimezone(self.zone)

    def clock(self, moment: datetime) -> str:
        return moment.strftime("%H:%M")

    def day(self, moment: datetime) -> str:
        weekday = _WEEKDAYS[self.language][moment.weekday()]
        if self.language == "de":
            return f"{weekday}, {moment.day:02d}.{moment.month:02d}.{moment.year}"
        return f"{weekday} {moment.day} {_MONTHS_EN[moment.month - 1]} {moment.year}"

    def place(self, name: str) -> str:
        if name:
            return name
        return "Ihr Haltepunkt (siehe App)" if self.language == "de" else "your stop point (see the app)"

    def reference(self, booking_id: str) -> str:
        label = "Buchungsnummer" if self.language == "de" else "Booking reference"
        return f"{label}: {booking_id}"


@dataclass(frozen=True, slots=True)
class NoticeTexts:
    """How notices are put into words in this deployment: the service's zone, the agency's language
    (riders who chose none are written to in it) and the agency as the texts name it."""

    zone: tzinfo
    agency_lang: str
    agency: Agency

    @classmethod
    def of(cls, settings: Settings, zone: tzinfo) -> NoticeTexts:
        """The texts of the deployment ``settings`` describe, with times in ``zone``."""
        return cls(zone, settings.agency_lang, Agency(settings.agency_name, settings.agency_phone,
                                                      settings.public_url))

    def language(self, preferences: NotificationPreferences | None) -> str:
        """The language a rider with ``preferences`` is written to."""
        return language_of(preferences.language if preferences is not None else None, self.agency_lang)

    def text(self, notice: Notice, language: str) -> NoticeText:
        """``notice`` in words, in ``language``."""
        return notice_text(notice.kind, notice.data, language=language, zone=self.zone, agency=self.agency)


def notice_public(row: Notice, texts: NoticeTexts, language: str) -> NoticePublic:
    """``row`` as the rider sees it, in ``language``."""
    words = texts.text(row, language)
    return NoticePublic(id=row.id, kind=row.kind, booking_id=row.booking_id,
                        created_at=row.created_at.astimezone(texts.zone), read=row.read_at is not None,
                        title=words.title, text=words.summary)
