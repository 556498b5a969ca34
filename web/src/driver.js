// The drivers' page (/driver, tablet): the bus's manifest (next stop first: who boards or alights, seats
// and wheelchairs, planned times, promised windows, riders the control room keeps on the bus, and whether it
// fixed the order of the stops), the road to drive on the map, and the buttons that
// report arrived / picked up / dropped off / no-show / break finished. The route comes live from
// WS /v1/driver/stream; after every report the page also reads GET /v1/driver/route. The riders' names
// and phones come apart (GET /v1/driver/contacts), only for the next stops the operators allow. The
// tablet's GPS positions go to POST /v1/driver/positions.

import { api, el, errorText, hhmm, liveStream, showLive } from './api.js';
import { signIn } from './signin.js';
import { onLanguage, t } from './i18n.js';
import { baseMap, pointMarker, routeLine } from './map.js';
import { collectText } from './price.js';

const $ = (id) => document.getElementById(id);
const COLORS = { pickup: '#2e8b57', dropoff: '#c0392b', break: '#7f8c8d' };
const POSITIONS_EVERY_MS = 5000;
const CONTACTS_EVERY_MS = 60_000; // the next stops' window moves with time
const state = { me: null, map: null, route: null, layers: [], arrivedAt: null, updated: null, contacts: new Map() };

function say(text) {
  $('message').textContent = text;
}

function stopKey(stop) {
  return `${stop.kind}:${stop.booking_id ?? 'break'}`;
}

function shortId(id) {
  return id ? id.slice(0, 8) : '';
}

/** The buttons for the next stop. */
function actions(stop) {
  const report = (label, path, withBooking) => el('button', {
    type: 'button', class: path === 'no-show' ? 'danger' : '', text: t(label), 'data-action': path,
    onclick: () => send(label, path, withBooking ? stop.booking_id : null, stop),
  });
  const arrived = stopKey(stop) === state.arrivedAt;
  const buttons = [];
  if (stop.kind !== 'break') {
    const button = report('driver.arrived', 'arrived', false);
    if (arrived) button.setAttribute('aria-pressed', 'true');
    buttons.push(button);
  }
  if (stop.kind === 'pickup') buttons.push(report('driver.pickedUp', 'picked-up', true), report('driver.noShow', 'no-show', true));
  if (stop.kind === 'dropoff') buttons.push(report('driver.droppedOff', 'dropped-off', true));
  if (stop.kind === 'break') buttons.push(report('driver.breakFinished', 'break-finished', false));
  return el('div', { class: 'actions', role: 'group', 'aria-label': t('driver.next') }, ...buttons);
}

async function send(label, path, bookingId, stop) {
  const answer = await api(`/v1/driver/${path}`, { method: 'POST', body: bookingId ? { booking_id: bookingId } : undefined });
  if (!answer.ok) {
    say(t('op.error', { message: errorText(answer.body) }));
    return;
  }
  if (path === 'arrived') state.arrivedAt = stopKey(stop);
  say(t('driver.done', { action: t(label) }));
  await reload();
}

function render() {
  const list = $('manifest');
  const stops = state.route?.stops ?? [];
  if (!stops.length) {
    list.replaceChildren(el('li', { class: 'empty', text: t('driver.empty') }));
  } else {
    list.replaceChildren(...stops.map((stop, index) => {
      const kind = t(`driver.${stop.kind}`);
      const lines = [
        el('strong', { class: 'kind', text: index === 0 ? `${t('driver.next')}: ${kind}` : kind }),
        el('span', { class: 'time', text: t('driver.planned', { time: hhmm(stop.planned_start) }) }),
      ];
      if (stop.street) lines.push(el('span', { class: 'street', text: stop.street }));
      if (stop.booking_id) {
        lines.push(el('span', { class: 'who', text: `${t('driver.booking', { id: shortId(stop.booking_id) })} · ${t('driver.people', { seats: stop.seats, wheelchairs: stop.wheelchairs })}` }));
      }
      const contact = state.contacts.get(`${stop.kind}:${stop.booking_id}`);
      if (contact) {
        lines.push(el('span', { class: 'contact', text: contact.phone ? `${contact.name} · ${contact.phone}` : contact.name }));
      }
      if (stop.pickup_window) {
        lines.push(el('span', { class: 'window', text: t('driver.window', { start: hhmm(stop.pickup_window.start), end: hhmm(stop.pickup_window.end) }) }));
      }
      if (stop.fare) lines.push(el('span', { class: 'fare', text: collectText(stop.fare) }));
      if (stop.pinned) lines.push(el('span', { class: 'pinned', text: t('driver.pinned') }));
      const item = el('li', { class: `stop stop-${stop.kind}${index === 0 ? ' next' : ''}`, 'data-booking': stop.booking_id ?? '', 'data-kind': stop.kind }, ...lines);
      if (index === 0) item.append(actions(stop));
      return item;
    }));
  }
  $('bus').textContent = t('driver.bus', { bus: state.me.vehicle_id });
  const lock = state.route?.lock ?? 'none';
  $('lock').hidden = lock === 'none';
  $('lock').textContent = lock === 'none' ? '' : t(`driver.lock.${lock}`);
  drawMap();
}

function drawMap() {
  if (!state.map) return;
  for (const layer of state.layers) layer.remove();
  state.layers = [];
  const line = routeLine(state.map, state.route?.geometry);
  if (line) state.layers.push(line);
  (state.route?.stops ?? []).forEach((stop, index) => {
    state.layers.push(pointMarker(state.map, stop, `${index + 1}. ${t(`driver.${stop.kind}`)} ${hhmm(stop.planned_start)}`, COLORS[stop.kind]));
  });
  if (line) state.map.fitBounds(line.getBounds(), { padding: [30, 30], maxZoom: 15, animate: false });
}

function show(route) {
  state.route = route;
  render();
  loadContacts();
}

/** Whom to call about the next stops (names and phones, as far as the operators' settings allow). */
async function loadContacts() {
  const answer = await api('/v1/driver/contacts');
  if (!answer.ok) return;
  state.contacts = new Map(answer.body.map((c) => [`${c.kind}:${c.booking_id}`, c]));
  render();
}

async function reload() {
  const answer = await api('/v1/driver/route');
  if (answer.ok) show(answer.body);
  else say(t('op.error', { message: errorText(answer.body) }));
}

/**
 * Report the tablet's GPS positions (where the browser has and allows them): the first at once, then in
 * batches every POSITIONS_EVERY_MS. They are stamped in the service's time (the tablet's clock may be off
 * by the difference /v1/me showed at sign-in); a batch the network lost is sent again with the next one.
 */
function reportPositions() {
  if (!navigator.geolocation) return;
  const skew = Date.parse(state.me.now) - Date.now();
  let pending = [];
  let sending = false;
  const flush = async () => {
    if (!pending.length || sending) return;
    const batch = pending;
    pending = [];
    sending = true;
    const answer = await api('/v1/driver/positions', { method: 'POST', body: { positions: batch } });
    sending = false;
    if (answer.status === 0) pending = batch.concat(pending);
  };
  let first = true;
  navigator.geolocation.watchPosition((position) => {
    pending.push({ lat: position.coords.latitude, lon: position.coords.longitude,
      at: new Date(position.timestamp + skew).toISOString() });
    if (first) flush();
    first = false;
  }, () => {}, { enableHighAccuracy: true, maximumAge: 5000 });
  setInterval(flush, POSITIONS_EVERY_MS);
}

async function main() {
  state.me = await signIn('driver');
  state.map = await baseMap($('map'));
  await reload();
  liveStream('/v1/driver/stream', (message) => {
    if (message.route) {
      show(message.route);
      if (message.kind === 'route_changed') $('updated').textContent = t('driver.updated', { time: hhmm(message.time) });
    } else if (message.kind !== 'route') reload();
  }, (connected) => showLive($('live'), connected));
  onLanguage(render);
  reportPositions();
  setInterval(loadContacts, CONTACTS_EVERY_MS);
  document.body.dataset.ready = 'true';
}

main();
