// The riders' page (/app), an installable web app (./pwa.js): choose where from and where to (an address
// search, ./address_search.js, a favourite place, a list of places or a click on the map), when, how many
// (or with which companions); get an offer (with the walk to its meeting point, ./walking.js); book it;
// watch the bus come (WS /v1/bookings/{id}/stream); cancel. Other tabs: my trips (./trips.js), recurring
// trips (./recurring.js), favourite places and companions (./favourites.js); download or erase one's data
// (./privacy.js, /privacy).

import './rider_strings.js';
import { initAccount } from './account.js';
import { addressSearch } from './address_search.js';
import { api, el, errorText, hhmm, liveStream, serviceTime, showLive } from './api.js';
import { favouritePlaces, initProfile, refreshProfile, renderProfile, seatsWithCompanions } from './favourites.js';
import { signIn } from './signin.js';
import { onLanguage, t } from './i18n.js';
import { baseMap, busMarker, pointMarker } from './map.js';
import { fareItem } from './price.js';
import { addNotice, refreshInbox, renderInbox } from './inbox.js';
import { installPrivacy } from './privacy.js';
import { installApp } from './pwa.js';
import { initRecurring, refreshRecurring, renderRecurring } from './recurring.js';
import { initTrips, refreshTrips, renderTrips } from './trips.js';
import { drawWalk, pickupPoint } from './walking.js';

const $ = (id) => document.getElementById(id);
const BOOKING = 'rufbus.booking';
const ENDED = new Set(['completed', 'cancelled', 'no_show', 'rejected']);

const state = {
  me: null, map: null, places: [], ends: { from: null, to: null }, markers: { from: null, to: null },
  search: { from: null, to: null }, picking: null, offer: null, offerKey: null, booking: null, live: null, bus: null, walk: null,
};

/** A version 4 UUID (the Idempotency-Key of one offer); crypto.randomUUID needs a secure context. */
function uuid() {
  if (crypto.randomUUID) return crypto.randomUUID();
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const h = [...b].map((x) => x.toString(16).padStart(2, '0')).join('');
  return `${h.slice(0, 8)}-${h.slice(8, 12)}-${h.slice(12, 16)}-${h.slice(16, 20)}-${h.slice(20)}`;
}

function say(text) {
  $('message').textContent = text;
}

/** The named places (GET /map/places: villages and towns) and, where the service has them, its stops
(GET /v1/stops); each entry gets its group ("places" or "stops"). */
async function loadPlaces() {
  const places = await (await fetch('/map/places')).json();
  const stops = await api('/v1/stops?limit=500');
  return [...places.map((p) => ({ ...p, group: 'places' })),
    ...(stops.ok && Array.isArray(stops.body) ? stops.body.map((s) => ({ ...s, group: 'stops' })) : [])];
}

function fillPlaceLists() {
  for (const which of ['from', 'to']) {
    const select = $(which);
    const chosen = state.ends[which];
    const groups = { favourites: el('optgroup', { label: t('fav.group') }), places: el('optgroup', { label: t('rider.places') }),
      stops: el('optgroup', { label: t('rider.stops') }) };
    state.places.forEach((place, index) => groups[place.group].append(el('option', { value: String(index), text: place.name })));
    select.replaceChildren(el('option', { value: '', text: t('rider.choosePlace') }),
      ...Object.values(groups).filter((group) => group.children.length));
    if (chosen && chosen.index === undefined) {
      select.append(el('option', { value: 'map', text: chosen.name || t('rider.mapPoint', { lat: chosen.lat.toFixed(4), lon: chosen.lon.toFixed(4) }) }));
      select.value = 'map';
    } else if (chosen) select.value = String(chosen.index);
  }
}

function setEnd(which, point) {
  state.ends[which] = point;
  if (state.markers[which]) state.markers[which].remove();
  state.markers[which] = point && state.map
    ? pointMarker(state.map, point, point.name || t(which === 'from' ? 'rider.from' : 'rider.to'), which === 'from' ? '#2e8b57' : '#c0392b')
    : null;
  state.search[which]?.set(point?.name || '');
  fillPlaceLists();
}

function startPicking(which) {
  state.picking = state.picking === which ? null : which;
  for (const w of ['from', 'to']) $(`pick-${w}`).setAttribute('aria-pressed', String(state.picking === w));
  if (state.picking) say(t('rider.pickHint', { field: t(which === 'from' ? 'rider.from' : 'rider.to') }));
}

function defaultTime(nowIso) {
  const [hours, minutes] = nowIso.slice(11, 16).split(':').map(Number);
  const total = Math.min(hours * 60 + minutes + 30, 23 * 60 + 55);
  const rounded = Math.ceil(total / 5) * 5;
  $('date').value = nowIso.slice(0, 10);
  $('time').value = `${String(Math.floor(rounded / 60)).padStart(2, '0')}:${String(rounded % 60).padStart(2, '0')}`;
}

function requestBody() {
  const point = (p) => ({ lat: p.lat, lon: p.lon });
  return {
    origin: point(state.ends.from), destination: point(state.ends.to),
    time_type: document.querySelector('input[name="time_type"]:checked').value,
    time: serviceTime(state.me, $('date').value, $('time').value),
    seats: Number($('seats').value) || 1, wheelchairs: Number($('wheelchairs').value) || 0,
  };
}

function showSection(id) {
  for (const section of ['offer', 'rejection', 'booking']) $(section).hidden = section !== id;
}

async function askForOffer(event) {
  event?.preventDefault();
  if (!state.ends.from || !state.ends.to) {
    say(t('rider.missing'));
    return;
  }
  say('');
  const answer = await api('/v1/quotes', { method: 'POST', body: requestBody() });
  if (answer.ok) {
    state.offer = answer.body;
    state.offerKey = uuid();
    await showWalk();
    renderOffer();
    showSection('offer');
    $('book').focus();
  } else if (answer.status === 409) {
    renderRejection(answer.body);
    showSection('rejection');
  } else {
    showSection(null);
    say(t('rider.invalid', { message: errorText(answer.body) }));
  }
}

function renderOffer() {
  const offer = state.offer;
  if (!offer) return;
  $('offer-details').replaceChildren(
    el('li', { text: t('rider.pickupWindow', { start: hhmm(offer.pickup_window.start), end: hhmm(offer.pickup_window.end) }) }),
    el('li', { text: t('rider.plannedPickup', { time: hhmm(offer.planned_pickup) }) }),
    ...stopPoints(offer),
    el('li', { text: t('rider.arrival', { time: hhmm(offer.estimated_arrival), latest: hhmm(offer.latest_arrival) }) }),
    fareItem(offer.fare),
    el('li', { class: 'hint', text: t('rider.validUntil', { time: hhmm(offer.valid_until) }) }),
    ...[walkItem()].filter(Boolean),
  );
}

/** The walk to the offer's meeting point, drawn on the map (none door to door). */
async function showWalk() {
  if (state.walk) state.walk.remove();
  state.walk = null;
  const origin = state.ends.from;
  const point = await pickupPoint(state.offer, origin);
  if (point && state.map) state.walk = await drawWalk(state.map, origin, point, point.name);
}

function walkItem() {
  const walk = state.walk;
  return walk ? el('li', { class: 'walk', 'data-walk': walk.point.id,
    text: t('rider.walk', { name: walk.point.name, metres: walk.metres }) }) : null;
}

/** Where the bus stops for the rider, as list items (none for bookings made before stop points). */
function stopPoints(trip) {
  return [['pickup', 'rider.pickupAt'], ['dropoff', 'rider.dropoffAt']]
    .filter(([end]) => trip[end])
    .map(([end, key]) => el('li', {
      class: `stop-point ${end}`,
      text: t(key, { street: trip[end].street || t('rider.unnamedRoad'), walk: trip[end].walk_m }),
    }));
}

function renderRejection(body) {
  $('rejection-text').textContent = t('rider.noOffer', { message: errorText(body) });
  const alternatives = body.alternatives || [];
  $('alternatives-title').hidden = alternatives.length === 0;
  $('alternatives').replaceChildren(...alternatives.map((iso) => el('li', {},
    el('button', {
      type: 'button', class: 'secondary', text: t('rider.useTime', { time: hhmm(iso) }),
      onclick: () => {
        $('date').value = iso.slice(0, 10);
        $('time').value = hhmm(iso);
        askForOffer();
      },
    }))));
}

async function book() {
  $('book').disabled = true;
  const answer = await api('/v1/bookings', {
    method: 'POST', body: { quote_id: state.offer.quote_id }, headers: { 'Idempotency-Key': state.offerKey },
  });
  $('book').disabled = false;
  if (!answer.ok) {
    if (answer.status === 409 && answer.body.alternatives) {
      renderRejection(answer.body);
      showSection('rejection');
    } else say(t('rider.invalid', { message: errorText(answer.body) }));
    return;
  }
  say(t('rider.booked', { bus: answer.body.vehicle_id }));
  follow(answer.body);
}

/** Show `booking` and follow its live stream until it ends. */
function follow(booking) {
  localStorage.setItem(BOOKING, booking.id);
  state.booking = { ...booking };
  showSection('booking');
  renderBooking();
  if (state.live) state.live.close();
  state.live = liveStream(`/v1/bookings/${encodeURIComponent(booking.id)}/stream`, (message) => {
    if (message.booking) {
      state.booking = { ...state.booking, ...message.booking };
      renderBooking();
    }
    if (message.kind === 'notice') addNotice(message.notice);
  }, (connected) => showLive($('live'), connected));
  refreshInbox();  // the booking's confirmation (or what was told before the stream opened)
}

function renderBooking() {
  const b = state.booking;
  if (!b) return;
  const items = [el('li', { text: t('rider.status', { status: t(`status.${b.status}`) }), 'data-status': b.status })];
  if (b.pickup_window) {
    items.push(el('li', { text: t('rider.pickupWindow', { start: hhmm(b.pickup_window.start), end: hhmm(b.pickup_window.end) }) }));
  }
  items.push(...stopPoints(b));
  if (b.status === 'booked' && b.planned_pickup) items.push(el('li', { class: 'eta', text: t('rider.eta', { time: hhmm(b.planned_pickup) }) }));
  if (b.estimated_arrival && !ENDED.has(b.status)) {
    items.push(el('li', { text: t('rider.etaArrival', { time: hhmm(b.estimated_arrival) }) }));
  }
  if (b.vehicle_id) items.push(el('li', { text: t('driver.bus', { bus: b.vehicle_id }) }));
  if (b.fare) items.push(fareItem(b.fare));
  const walk = walkItem();
  if (b.status === 'booked' && walk) items.push(walk);
  $('booking-details').replaceChildren(...items);
  const ended = ENDED.has(b.status);
  $('cancel').hidden = b.status !== 'booked';
  $('new-trip').hidden = !ended;
  if (state.bus) state.bus.remove();
  state.bus = b.vehicle_position && !ended && state.map
    ? busMarker(state.map, b.vehicle_position, b.vehicle_id || 'Bus') : null;
  if (ended && state.live) {
    state.live.close();
    state.live = null;
    $('live').textContent = '';
    localStorage.removeItem(BOOKING);
  }
}

async function cancel() {
  const answer = await api(`/v1/bookings/${encodeURIComponent(state.booking.id)}`, { method: 'DELETE' });
  if (answer.ok) {
    state.booking = { ...state.booking, ...answer.body, vehicle_position: null };
    renderBooking();
    say(t('rider.cancelled'));
  } else say(t('rider.invalid', { message: errorText(answer.body) }));
}

function newTrip() {
  state.booking = null;
  if (state.walk) state.walk.remove();
  state.walk = null;
  showSection(null);
  say('');
  $('from').focus();
}

/** Put the favourite places at the head of the place lists (after they changed), keeping the chosen ends. */
function useFavourites() {
  const rest = state.places.filter((p) => p.group !== 'favourites');
  state.places = [...favouritePlaces(), ...rest];
  for (const which of ['from', 'to']) {
    const end = state.ends[which];
    if (end && end.index !== undefined) end.index = state.places.findIndex((p) => p.name === end.name && p.lat === end.lat && p.lon === end.lon);
    if (end && end.index === -1) delete end.index;
  }
  fillPlaceLists();
  renderRecurring();
  renderProfile();
}

/** Seats and wheelchair spaces follow the companions ticked (the fields stay editable). */
function useCompanions() {
  const chosen = seatsWithCompanions();
  $('seats').value = String(chosen.seats);
  $('wheelchairs').value = String(chosen.wheelchairs);
}

/** Show one tab ("book", "trips", "recurring", "profile") and load what it lists. */
function showTab(name) {
  for (const button of document.querySelectorAll('.tab-button')) {
    if (button.dataset.tab === name) button.setAttribute('aria-current', 'page');
    else button.removeAttribute('aria-current');
  }
  for (const tab of ['book', 'trips', 'recurring', 'profile']) $(`tab-${tab}`).hidden = tab !== name;
  if (name === 'book' && state.map) state.map.invalidateSize();
  if (name === 'trips') refreshTrips();
  if (name === 'recurring') refreshRecurring();
  if (name === 'profile') refreshProfile();
}

async function main() {
  installApp();
  state.me = await signIn('rider');
  defaultTime(state.me.now);
  state.map = await baseMap($('map'));
  state.places = await loadPlaces();
  fillPlaceLists();
  for (const which of ['from', 'to']) {
    state.search[which] = addressSearch($(`${which}-search`), {
      onPick: (hit) => {
        setEnd(which, { lat: hit.lat, lon: hit.lon, name: hit.label });
        state.map.setView([hit.lat, hit.lon], Math.max(state.map.getZoom(), 15));
      },
    });
    $(which).addEventListener('change', () => {
      const value = $(which).value;
      if (value === 'map') return;
      const place = state.places[Number(value)];
      setEnd(which, value === '' ? null : { lat: place.lat, lon: place.lon, name: place.name, index: Number(value) });
    });
    $(`pick-${which}`).addEventListener('click', () => startPicking(which));
  }
  state.map.on('click', (event) => {
    if (!state.picking) return;
    const which = state.picking;
    setEnd(which, { lat: event.latlng.lat, lon: event.latlng.lng });
    startPicking(null);
    say('');
  });
  initTrips({ follow: (booking) => {
    showTab('book');
    follow(booking);
  }, say });
  initRecurring({ places: () => state.places, me: state.me });
  initProfile({ places: () => state.places, ends: () => state.ends, say,
    changed: (what) => (what === 'companions' ? useCompanions() : useFavourites()) });
  for (const button of document.querySelectorAll('.tab-button')) button.addEventListener('click', () => showTab(button.dataset.tab));
  await refreshProfile();
  refreshRecurring();
  refreshInbox(say);
  $('trip').addEventListener('submit', askForOffer);
  $('book').addEventListener('click', book);
  $('cancel').addEventListener('click', cancel);
  $('new-trip').addEventListener('click', newTrip);
  installPrivacy();
  initAccount();
  onLanguage(() => {
    fillPlaceLists();
    renderOffer();
    renderBooking();
    renderTrips();
    renderRecurring();
    renderInbox();
    renderProfile();
  });
  const earlier = localStorage.getItem(BOOKING);
  if (earlier) {
    const answer = await api(`/v1/bookings/${encodeURIComponent(earlier)}`);
    if (answer.ok && !ENDED.has(answer.body.status)) follow(answer.body);
    else localStorage.removeItem(BOOKING);
  }
  document.body.dataset.ready = 'true';
}

main();
