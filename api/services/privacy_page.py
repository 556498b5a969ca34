"""The public privacy notice (``GET /privacy``), in German and English: what the service stores about
riders, for how long (the operators' settings in force), who sees what, the riders' rights and whom to
contact (the agency of the settings: ``RUFBUS_AGENCY_*``)."""

from __future__ import annotations

from html import escape

from api.db.models import PrivacySettingsBase
from api.grid import CELL_M
from api.settings import Settings


def render(settings: Settings, privacy: PrivacySettingsBase) -> str:
    """The page as HTML."""
    name = escape(settings.agency_name)
    url = escape(settings.agency_url or settings.public_url)
    phone = escape(settings.agency_phone) if settings.agency_phone else None
    contact = f'<a href="{url}">{name}</a>' + (f", {phone}" if phone else "")
    p = privacy
    german = f"""<section lang="de">
<h1>Datenschutz</h1>
<h2>Was wir speichern</h2>
<ul>
<li>Ihr Konto: Name, Telefonnummer (wenn Sie sie angeben) und einen Hash Ihres Schlüssels – nie den
Schlüssel selbst.</li>
<li>Ihre Buchungen: Start und Ziel, wo der Bus hält, Zeiten, Plätze, was aus der Fahrt wurde.</li>
<li>Das Ereignisprotokoll des Betriebs (z.&nbsp;B. „gebucht“, „eingestiegen“, „storniert“).</li>
<li>Angefragte Fahrten nur vergröbert: ein Raster von etwa {CELL_M}&nbsp;m und die Stunde, ohne Bezug zu
Ihnen.</li>
</ul>
<h2>Wie lange</h2>
<ul>
<li>Genaue Orte Ihrer Fahrten: {p.coarsen_after_days} Tage nach der Fahrt; danach nur noch die Rasterzelle
(etwa {CELL_M}&nbsp;m) – für die Berichte an den Landkreis.</li>
<li>Ereignisprotokoll: {p.prune_after_days} Tage.</li>
<li>Ihr Konto: bis Sie es löschen.</li>
</ul>
<h2>Wer was sieht</h2>
<ul>
<li>Den Bus sehen Sie ab {p.bus_visible_minutes}&nbsp;Minuten vor Ihrer Abholung bis zum Aussteigen.</li>
<li>Das Fahrpersonal sieht Ihren Namen und Ihre Telefonnummer nur für die nächsten
{p.driver_contact_stops}&nbsp;Halte innerhalb von {p.driver_contact_minutes}&nbsp;Minuten, und nur den
Haltepunkt, nicht Ihre Adresse.</li>
</ul>
<h2>Ihre Rechte</h2>
<ul>
<li>Auskunft: eine Kopie all Ihrer Daten (in der App: „Meine Daten“).</li>
<li>Löschung: Ihr Konto und der Bezug Ihrer Fahrten zu Ihnen (in der App: „Konto löschen“); offene
Buchungen werden dabei storniert.</li>
<li>Berichtigung und Beschwerde: wenden Sie sich an uns oder an die Datenschutzaufsicht.</li>
</ul>
<h2>Kontakt</h2>
<p>{contact}</p>
</section>"""
    english = f"""<section lang="en">
<h1>Privacy</h1>
<h2>What we store</h2>
<ul>
<li>Your account: name, phone number (if you give one) and a hash of your key – never the key itself.</li>
<li>Your bookings: origin and destination, where the bus stops, times, seats, how the trip ended.</li>
<li>The service's event log (e.g. "booked", "picked up", "cancelled").</li>
<li>Trips asked for only coarsened: a grid of about {CELL_M}&nbsp;m and the hour, not linked to you.</li>
</ul>
<h2>For how long</h2>
<ul>
<li>The exact places of your trips: {p.coarsen_after_days} days after the trip; then only the grid cell
(about {CELL_M}&nbsp;m) – for the reports to the county.</li>
<li>The event log: {p.prune_after_days} days.</li>
<li>Your account: until you erase it.</li>
</ul>
<h2>Who sees what</h2>
<ul>
<li>You see your bus from {p.bus_visible_minutes}&nbsp;minutes before your pickup until you get off.</li>
<li>Drivers see your name and phone number only for their next {p.driver_contact_stops}&nbsp;stops within
{p.driver_contact_minutes}&nbsp;minutes, and only the stop point, not your address.</li>
</ul>
<h2>Your rights</h2>
<ul>
<li>Access: a copy of all your data (in the app: "My data").</li>
<li>Erasure: your account and the link of your trips to you (in the app: "Delete account"); open
bookings are cancelled.</li>
<li>Rectification and complaints: contact us or the data protection authority.</li>
</ul>
<h2>Contact</h2>
<p>{contact}</p>
</section>"""
    return (f'<!doctype html><html lang="de"><head><meta charset="utf-8">'
            f'<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<title>Datenschutz · Privacy – {name}</title></head><body>'
            f'<p><a href="#de">Deutsch</a> · <a href="#en">English</a> · <a href="/app">App</a></p>'
            f'<div id="de">{german}</div><hr><div id="en">{english}</div></body></html>')
