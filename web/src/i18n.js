// German and English strings. German is the default (the service runs in a German-speaking region);
// the choice is kept in localStorage. Elements with data-i18n="key" get their text from here,
// data-i18n-label="key" their aria-label, data-i18n-placeholder="key" their placeholder.

const STRINGS = {
  de: {
    'lang.name': 'Deutsch',
    'skip': 'Zum Inhalt springen',
    'lang.label': 'Sprache',
    'login.title': 'Anmelden',
    'login.key': 'API-Schlüssel',
    'login.hint': 'Den Schlüssel erhalten Sie von Ihrem Betreiber (Demo: im Log von „make run“).',
    'login.submit': 'Anmelden',
    'login.logout': 'Abmelden',
    'login.invalid': 'Dieser Schlüssel ist unbekannt oder gesperrt.',
    'login.wrongRole': 'Dieser Schlüssel gehört zur Rolle „{role}“; diese Seite ist für {wanted}.',
    'role.rider': 'Fahrgäste', 'role.driver': 'Fahrer', 'role.operator': 'Leitstelle',
    'net.error': 'Der Dienst ist nicht erreichbar. Bitte erneut versuchen.',
    'live.on': 'Live verbunden', 'live.off': 'Live getrennt – neuer Versuch …',
    'map.label': 'Karte des Bediengebiets',
    'map.attribution': '© OpenStreetMap-Mitwirkende',
    'rider.title': 'Rufbus – Fahrt bestellen',
    'rider.from': 'Von', 'rider.to': 'Nach',
    'rider.map': 'Karte',
    'rider.pickFrom': 'Start auf der Karte wählen',
    'rider.pickTo': 'Ziel auf der Karte wählen',
    'rider.places': 'Orte',
    'rider.stops': 'Haltestellen',
    'rider.pickHint': 'Klicken Sie auf die Karte, um „{field}“ zu setzen.',
    'rider.choosePlace': '– Ort wählen –',
    'rider.mapPoint': 'Punkt auf der Karte ({lat}, {lon})',
    'rider.when': 'Zeit',
    'rider.leaveAfter': 'Abfahrt ab', 'rider.arriveBy': 'Ankunft bis',
    'rider.date': 'Datum', 'rider.time': 'Uhrzeit',
    'rider.seats': 'Plätze', 'rider.wheelchairs': 'Rollstuhlplätze',
    'rider.ask': 'Angebot anfragen',
    'rider.missing': 'Bitte Start und Ziel wählen.',
    'rider.offer': 'Ihr Angebot',
    'rider.pickupWindow': 'Abholung zwischen {start} und {end}',
    'rider.plannedPickup': 'Geplante Abholung: {time}',
    'rider.arrival': 'Ankunft ca. {time} (spätestens {latest})',
    'rider.validUntil': 'Gültig bis {time}',
    'rider.book': 'Verbindlich buchen',
    'rider.booked': 'Gebucht! Bus {bus}.',
    'rider.booking': 'Ihre Fahrt',
    'rider.status': 'Status: {status}',
    'rider.eta': 'Bus kommt ca. {time}',
    'rider.etaArrival': 'Ankunft am Ziel ca. {time}',
    'rider.cancel': 'Fahrt stornieren',
    'rider.cancelled': 'Die Fahrt wurde storniert.',
    'rider.newTrip': 'Neue Fahrt',
    'rider.noOffer': 'Leider kein Angebot: {message}',
    'rider.alternatives': 'Diese Zeiten wären möglich:',
    'rider.useTime': '{time} wählen',
    'rider.invalid': 'Eingabe abgelehnt: {message}',
    'status.booked': 'gebucht', 'status.picked_up': 'im Bus', 'status.completed': 'angekommen',
    'status.cancelled': 'storniert', 'status.no_show': 'nicht erschienen', 'status.rejected': 'abgelehnt',
    'status.requested': 'angefragt',
    'driver.title': 'Rufbus – Fahrerdisplay',
    'driver.bus': 'Bus {bus}',
    'driver.manifest': 'Fahrtenliste',
    'driver.empty': 'Keine Halte geplant.',
    'driver.next': 'Nächster Halt',
    'driver.pickup': 'Einstieg', 'driver.dropoff': 'Ausstieg', 'driver.break': 'Pause',
    'driver.people': '{seats} Pers., {wheelchairs} Rollstuhl',
    'driver.planned': 'geplant {time}',
    'driver.window': 'Fenster {start}–{end}',
    'driver.booking': 'Buchung {id}',
    'driver.arrived': 'Angekommen', 'driver.pickedUp': 'Eingestiegen', 'driver.droppedOff': 'Ausgestiegen',
    'driver.noShow': 'Nicht erschienen', 'driver.breakFinished': 'Pause beendet',
    'driver.done': 'Gemeldet: {action}',
    'driver.updated': 'Route aktualisiert ({time})',
    'op.title': 'Rufbus – Leitstelle',
    'op.fleet': 'Flotte', 'op.requests': 'Offene Fahrten', 'op.kpis': 'Kennzahlen heute',
    'op.rules': 'Betriebsregeln', 'op.vehicles': 'Fahrzeuge', 'op.simulation': 'Simulation',
    'op.bus': 'Bus', 'op.inService': 'im Dienst', 'op.outOfService': 'außer Dienst',
    'op.load': 'Besetzt', 'op.nextStops': 'Nächste Halte', 'op.stops': 'Halte',
    'op.noRequests': 'Keine offenen Fahrten.',
    'op.booking': 'Buchung', 'op.window': 'Abholfenster',
    'op.kpiBookings': 'Anfragen', 'op.kpiWindow': 'Mittleres Abholfenster',
    'op.kpiStatus': 'Nach Status', 'op.kpiCauses': 'Ablehnungsgründe',
    'op.minutes': '{n} min',
    'op.save': 'Speichern', 'op.saved': 'Gespeichert (Version {version}).',
    'op.invalidRules': 'Die Regeln wurden nicht übernommen:',
    'op.withdraw': 'Außer Dienst nehmen', 'op.return': 'Wieder in Dienst',
    'op.addVehicle': 'Fahrzeug anlegen',
    'op.vehicleId': 'Kennung', 'op.vehicleName': 'Name', 'op.seats': 'Sitze', 'op.wheelchairs': 'Rollstuhlplätze',
    'op.depotLat': 'Depot Breite', 'op.depotLon': 'Depot Länge',
    'op.noVehicleApi': 'Die Fahrzeugverwaltung ist auf diesem Server nicht verfügbar.',
    'op.simBuses': 'Busse', 'op.simRequests': 'Anfragen', 'op.simSeed': 'Zufallszahl',
    'op.simStart': 'Simulation starten', 'op.simStatus': 'Simulation {id}: {status} ({done}/{total})',
    'op.simReport': 'Bericht öffnen',
    'op.noSimApi': 'Simulationen sind auf diesem Server nicht verfügbar.',
    'op.error': 'Fehler: {message}',
  },
  en: {
    'lang.name': 'English',
    'skip': 'Skip to content',
    'lang.label': 'Language',
    'login.title': 'Sign in',
    'login.key': 'API key',
    'login.hint': 'Your operator gives you the key (demo: in the log of “make run”).',
    'login.submit': 'Sign in',
    'login.logout': 'Sign out',
    'login.invalid': 'This key is unknown or blocked.',
    'login.wrongRole': 'This key belongs to the role “{role}”; this page is for {wanted}.',
    'role.rider': 'riders', 'role.driver': 'drivers', 'role.operator': 'operators',
    'net.error': 'The service cannot be reached. Please try again.',
    'live.on': 'Live', 'live.off': 'Live connection lost – retrying …',
    'map.label': 'Map of the service area',
    'map.attribution': '© OpenStreetMap contributors',
    'rider.title': 'Rufbus – book a ride',
    'rider.from': 'From', 'rider.to': 'To',
    'rider.map': 'Map',
    'rider.pickFrom': 'Pick the start on the map',
    'rider.pickTo': 'Pick the destination on the map',
    'rider.places': 'Places',
    'rider.stops': 'Stops',
    'rider.pickHint': 'Click the map to set “{field}”.',
    'rider.choosePlace': '– choose a place –',
    'rider.mapPoint': 'Point on the map ({lat}, {lon})',
    'rider.when': 'Time',
    'rider.leaveAfter': 'Leave after', 'rider.arriveBy': 'Arrive by',
    'rider.date': 'Date', 'rider.time': 'Time',
    'rider.seats': 'Seats', 'rider.wheelchairs': 'Wheelchair spaces',
    'rider.ask': 'Get an offer',
    'rider.missing': 'Please choose where from and where to.',
    'rider.offer': 'Your offer',
    'rider.pickupWindow': 'Pickup between {start} and {end}',
    'rider.plannedPickup': 'Planned pickup: {time}',
    'rider.arrival': 'Arrival about {time} (at the latest {latest})',
    'rider.validUntil': 'Valid until {time}',
    'rider.book': 'Book this ride',
    'rider.booked': 'Booked! Bus {bus}.',
    'rider.booking': 'Your ride',
    'rider.status': 'Status: {status}',
    'rider.eta': 'Bus expected about {time}',
    'rider.etaArrival': 'Arrival at your destination about {time}',
    'rider.cancel': 'Cancel ride',
    'rider.cancelled': 'The ride was cancelled.',
    'rider.newTrip': 'New ride',
    'rider.noOffer': 'Sorry, no offer: {message}',
    'rider.alternatives': 'These times would work:',
    'rider.useTime': 'Choose {time}',
    'rider.invalid': 'Request refused: {message}',
    'status.booked': 'booked', 'status.picked_up': 'on board', 'status.completed': 'arrived',
    'status.cancelled': 'cancelled', 'status.no_show': 'no-show', 'status.rejected': 'rejected',
    'status.requested': 'requested',
    'driver.title': 'Rufbus – driver display',
    'driver.bus': 'Bus {bus}',
    'driver.manifest': 'Manifest',
    'driver.empty': 'No stops planned.',
    'driver.next': 'Next stop',
    'driver.pickup': 'Pick up', 'driver.dropoff': 'Drop off', 'driver.break': 'Break',
    'driver.people': '{seats} pers., {wheelchairs} wheelchair',
    'driver.planned': 'planned {time}',
    'driver.window': 'window {start}–{end}',
    'driver.booking': 'Booking {id}',
    'driver.arrived': 'Arrived', 'driver.pickedUp': 'Picked up', 'driver.droppedOff': 'Dropped off',
    'driver.noShow': 'No-show', 'driver.breakFinished': 'Break finished',
    'driver.done': 'Reported: {action}',
    'driver.updated': 'Route updated ({time})',
    'op.title': 'Rufbus – control room',
    'op.fleet': 'Fleet', 'op.requests': 'Open rides', 'op.kpis': 'Today\'s figures',
    'op.rules': 'Service rules', 'op.vehicles': 'Vehicles', 'op.simulation': 'Simulation',
    'op.bus': 'Bus', 'op.inService': 'in service', 'op.outOfService': 'out of service',
    'op.load': 'On board', 'op.nextStops': 'Next stops', 'op.stops': 'Stops',
    'op.noRequests': 'No open rides.',
    'op.booking': 'Booking', 'op.window': 'Pickup window',
    'op.kpiBookings': 'Requests', 'op.kpiWindow': 'Mean pickup window',
    'op.kpiStatus': 'By status', 'op.kpiCauses': 'Rejection causes',
    'op.minutes': '{n} min',
    'op.save': 'Save', 'op.saved': 'Saved (version {version}).',
    'op.invalidRules': 'The rules were not applied:',
    'op.withdraw': 'Take out of service', 'op.return': 'Back in service',
    'op.addVehicle': 'Add vehicle',
    'op.vehicleId': 'Id', 'op.vehicleName': 'Name', 'op.seats': 'Seats', 'op.wheelchairs': 'Wheelchair spaces',
    'op.depotLat': 'Depot latitude', 'op.depotLon': 'Depot longitude',
    'op.noVehicleApi': 'Vehicle management is not available on this server.',
    'op.simBuses': 'Buses', 'op.simRequests': 'Requests', 'op.simSeed': 'Seed',
    'op.simStart': 'Start simulation', 'op.simStatus': 'Simulation {id}: {status} ({done}/{total})',
    'op.simReport': 'Open report',
    'op.noSimApi': 'Simulations are not available on this server.',
    'op.error': 'Error: {message}',
  },
};

const listeners = [];
let lang = localStorage.getItem('rufbus.lang') === 'en' ? 'en' : 'de';

/** The current language code ("de" or "en"). */
export function language() {
  return lang;
}

/** The string `key` in the current language, with {name} placeholders filled from `vars`. */
export function t(key, vars = {}) {
  const text = STRINGS[lang][key] ?? STRINGS.de[key] ?? key;
  return text.replace(/\{(\w+)\}/g, (_, name) => (name in vars ? String(vars[name]) : `{${name}}`));
}

/** Fill every data-i18n* element below `root`. */
export function translate(root = document) {
  document.documentElement.lang = lang;
  for (const el of root.querySelectorAll('[data-i18n]')) el.textContent = t(el.dataset.i18n);
  for (const el of root.querySelectorAll('[data-i18n-label]')) el.setAttribute('aria-label', t(el.dataset.i18nLabel));
  for (const el of root.querySelectorAll('[data-i18n-placeholder]')) el.placeholder = t(el.dataset.i18nPlaceholder);
}

/** Switch language, re-translate the page and tell `onLanguage` listeners (they redraw dynamic parts). */
export function setLanguage(code) {
  lang = code === 'en' ? 'en' : 'de';
  localStorage.setItem('rufbus.lang', lang);
  translate();
  for (const listener of listeners) listener(lang);
}

/** Call `listener(lang)` after every language switch. */
export function onLanguage(listener) {
  listeners.push(listener);
}

/** Wire a <select id="lang"> to the language. */
export function languageSwitch(select) {
  select.value = lang;
  select.addEventListener('change', () => setLanguage(select.value));
}
