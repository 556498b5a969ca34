// The operators' page (/operator): every bus on the live map (GET /v1/operator/fleet, the route ahead of
// each from GET /v1/driver/route?vehicle_id=, then WS /v1/operator/stream), the exceptions (GET
// /v1/operator/exceptions, after live messages and every 30 s), the open rides (pickups still ahead),
// today's figures (GET /v1/operator/kpis), the service rules (GET/PUT /v1/operator/rules),
// the service calendar (./calendar.js), the meeting points (./meeting_points.js), the vehicles (GET/POST /v1/operator/vehicles, out of / back in
// service, their shifts), simulations (POST /v1/operator/simulations, its status and report) and the
// county's reports (./reports.js), manual control of the plan with its audit log (./control.js), the
// tariff (./tariff.js), the digital twin (./twin.js) and the riders' e-mails (./outbox.js).

import { api, authHeaders, el, errorText, hhmm, liveStream, serviceTime, showLive, today } from './api.js';
import { signIn } from './signin.js';
import { loadCalendar } from './calendar.js';
import { initControl, refreshControl } from './control.js';
import { initDesk } from './desk.js';
import { initOutbox } from './outbox.js';
import { initReports } from './reports.js';
import { initTariff } from './tariff.js';
import { initTwin } from './twin.js';
import { onLanguage, t } from './i18n.js';
import { baseMap, busMarker, routeLine } from './map.js';
import { loadMeetingPoints } from './meeting_points.js';

const $ = (id) => document.getElementById(id);
const BUS_COLORS = ['#c0392b', '#1d5fa8', '#2e8b57', '#8e44ad', '#d35400', '#16a085', '#7f5f00', '#2c3e50'];
const MODES = ['door_to_door', 'stops_only', 'hybrid'];
const state = {
  me: null, map: null, fleet: [], routes: {}, markers: {}, lines: {}, kpis: null, refresh: null, rules: null,
  shiftsOf: null, exceptions: null,
};
const EXCEPTIONS_EVERY_MS = 30_000; // silent buses and waiting riders appear without any live message

function say(text) {
  $('message').textContent = text;
}

function color(vehicleId) {
  const index = state.fleet.findIndex((bus) => bus.id === vehicleId);
  return BUS_COLORS[(index < 0 ? 0 : index) % BUS_COLORS.length];
}

// --- fleet, routes, open rides ---------------------------------------------------------------------

async function loadFleet() {
  const answer = await api('/v1/operator/fleet');
  if (!answer.ok) {
    say(t('op.error', { message: errorText(answer.body) }));
    return;
  }
  state.fleet = answer.body;
  await Promise.all(state.fleet.map(async (bus) => {
    const route = await api(`/v1/driver/route?vehicle_id=${encodeURIComponent(bus.id)}`);
    if (route.ok) state.routes[bus.id] = route.body;
  }));
  renderFleet();
}

function placeBus(id, position) {
  if (!state.map || !position) return;
  if (state.markers[id]) state.markers[id].setLatLng([position.lat, position.lon]);
  else state.markers[id] = busMarker(state.map, position, id, color(id));
}

function renderFleet() {
  const rows = state.fleet.map((bus) => el('tr', { 'data-vehicle': bus.id },
    el('th', { scope: 'row' }, el('span', { class: 'swatch', style: `background:${color(bus.id)}`, 'aria-hidden': 'true' }),
      `${bus.id} (${t(bus.in_service ? 'op.inService' : 'op.outOfService')})`),
    el('td', { class: 'load', text: `${bus.load.seats} / ♿ ${bus.load.wheelchairs}` }),
    el('td', { text: bus.next_stops.map((s) => `${t(`driver.${s.kind}`)} ${hhmm(s.planned_time)}`).join(', ') || '–' }),
    el('td', { class: 'route-stops', text: String(bus.route_stops) })));
  $('fleet').tBodies[0].replaceChildren(...rows);
  for (const bus of state.fleet) {
    placeBus(bus.id, bus.position);
    drawRoute(bus.id);
  }
  renderRequests();
}

function drawRoute(id) {
  if (state.lines[id]) state.lines[id].remove();
  state.lines[id] = state.map ? routeLine(state.map, state.routes[id]?.geometry, color(id)) : null;
}

function renderRequests() {
  const open = [];
  for (const [bus, route] of Object.entries(state.routes)) {
    for (const stop of route?.stops ?? []) if (stop.kind === 'pickup') open.push({ bus, stop });
  }
  open.sort((a, b) => a.stop.planned_arrival.localeCompare(b.stop.planned_arrival));
  const body = $('requests').tBodies[0];
  if (!open.length) {
    body.replaceChildren(el('tr', {}, el('td', { colspan: '3', text: t('op.noRequests') })));
    return;
  }
  body.replaceChildren(...open.map(({ bus, stop }) => el('tr', { 'data-booking': stop.booking_id },
    el('td', { text: stop.booking_id.slice(0, 8) }), el('td', { text: bus }),
    el('td', { text: stop.pickup_window ? `${hhmm(stop.pickup_window.start)}–${hhmm(stop.pickup_window.end)}` : '–' }))));
}

// --- exceptions ------------------------------------------------------------------------------------

async function loadExceptions() {
  const answer = await api('/v1/operator/exceptions');
  if (answer.ok) {
    state.exceptions = answer.body.exceptions;
    renderExceptions();
  }
}

function exceptionText(item) {
  return t(`exc.${item.kind}`, {
    bus: item.vehicle_id ?? '–', booking: item.booking_id ? item.booking_id.slice(0, 8) : '–', n: item.minutes,
    stop: item.stop ? t(`exc.${item.stop}`) : '', planned: hhmm(item.planned_time), due: hhmm(item.due_time),
    last: hhmm(item.last_position_at),
  });
}

function actionText(action) {
  return t(`exc.${action.kind}`, { bus: action.vehicle_id ?? '–', end: hhmm(action.window_end), time: hhmm(action.time) });
}

function renderExceptions() {
  const list = $('exceptions');
  if (!state.exceptions) return;
  if (!state.exceptions.length) {
    list.replaceChildren(el('li', { class: 'none', text: t('op.noExceptions') }));
    return;
  }
  list.replaceChildren(...state.exceptions.map((item) => el('li', {
    class: item.severity, 'data-kind': item.kind, 'data-vehicle': item.vehicle_id ?? '', 'data-booking': item.booking_id ?? '',
  }, el('strong', { text: `${t(`exc.${item.severity}`)}: ` }), exceptionText(item),
  el('span', { class: 'did', text: t('exc.did', { what: item.actions.map(actionText).join('; ') || t('exc.nothing') }) }))));
}

// --- today's figures -------------------------------------------------------------------------------

async function loadKpis() {
  const [from, to] = today(state.me);
  const answer = await api(`/v1/operator/kpis?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  if (answer.ok) {
    state.kpis = answer.body;
    renderKpis();
  }
}

function renderKpis() {
  const k = state.kpis;
  if (!k) return;
  const named = (name) => (t(`status.${name}`) === `status.${name}` ? name : t(`status.${name}`));
  const entries = (object) => Object.entries(object ?? {}).map(([name, n]) => `${named(name)}: ${n}`).join(', ') || '–';
  const minutes = (seconds) => (seconds == null ? '–' : t('op.minutes', { n: Math.round(seconds / 60) }));
  const number = (value, digits = 1) => (value == null ? '–' : String(Math.round(value * 10 ** digits) / 10 ** digits));
  const rows = [
    ['op.kpiBookings', String(k.bookings), 'bookings'],
    ['op.kpiStatus', entries(k.by_status), 'by-status'],
    ['op.kpiCauses', entries(k.by_rejection_cause), 'causes'],
    ['op.kpiWindow', minutes(k.mean_window_s), 'window'],
  ];
  if ('served' in k) {
    rows.push(
      ['op.kpiServed', `${k.served} / ${k.rejected}`, 'served'],
      ['op.kpiRefused', entries(k.refused_quotes_by_cause), 'refused'],
      ['op.kpiWait', k.wait_s ? `${minutes(k.wait_s.p50)} / ${minutes(k.wait_s.p95)}` : '–', 'wait'],
      ['op.kpiKept', k.window_kept_pct == null ? '–' : `${number(k.window_kept_pct)} %`, 'kept'],
      ['op.kpiRideFactor', number(k.ride_time_factor, 2), 'ride-factor'],
      ['op.kpiOccupancy', number(k.occupancy, 2), 'occupancy'],
      ['op.kpiVehicle', `${number(k.vehicle_hours)} h · ${number(k.vehicle_km)} km`, 'vehicle'],
    );
  }
  $('kpis').replaceChildren(...rows.flatMap(([label, value, key]) => [el('dt', { text: t(label) }), el('dd', { 'data-kpi': key, text: value })]));
}

/** Fleet and figures again, at most once a second, after live messages. */
function refreshSoon() {
  clearTimeout(state.refresh);
  state.refresh = setTimeout(() => {
    loadFleet();
    loadKpis();
    loadExceptions();
  }, 700);
}

function onLive(message) {
  if (message.kind === 'fleet') {
    for (const [id, position] of Object.entries(message.positions ?? {})) placeBus(id, position);
    return;
  }
  if (message.position && message.vehicle_id) placeBus(message.vehicle_id, message.position);
  if (message.route && message.vehicle_id) {
    state.routes[message.vehicle_id] = message.route;
    drawRoute(message.vehicle_id);
    renderRequests();
    refreshControl();
  }
  refreshSoon();
}

// --- rules -----------------------------------------------------------------------------------------

async function loadRules() {
  const answer = await api('/v1/operator/rules');
  if (!answer.ok) return;
  state.rules = answer.body;
  const form = $('rules');
  const fields = Object.entries(answer.body).filter(([name]) => !['version', 'valid_from'].includes(name));
  const control = (name, value) => (name === 'mode'
    ? el('select', { name }, ...MODES.map((mode) => el('option', { value: mode, selected: mode === value, text: t(`mode.${mode}`) })))
    : el('input', { name, type: 'number', step: 'any', value: String(value) }));
  form.replaceChildren(...fields.map(([name, value]) => el('label', { title: name },
    el('span', { 'data-i18n': `rule.${name}`, text: t(`rule.${name}`) }), control(name, value))),
  el('button', { type: 'submit', 'data-i18n': 'op.save', text: t('op.save') }));
}

function problems(body) {
  const detail = body?.detail;
  if (!Array.isArray(detail)) return [errorText(body)];
  return detail.map((item) => (typeof item === 'string' ? item
    : `${(item.loc ?? []).filter((p) => p !== 'body').join('.')}: ${item.msg ?? JSON.stringify(item)}`));
}

async function saveRules(event) {
  event.preventDefault();
  const body = {};
  for (const input of $('rules').querySelectorAll('input, select')) {
    body[input.name] = input.tagName === 'SELECT' ? input.value : Number(input.value);
  }
  const answer = await api('/v1/operator/rules', { method: 'PUT', body });
  const box = $('rules-message');
  if (answer.ok) {
    box.replaceChildren(el('p', { class: 'ok', text: t('op.saved', { version: answer.body.version }) }));
  } else {
    box.replaceChildren(el('p', { class: 'error', text: t('op.invalidRules') }),
      el('ul', { class: 'error' }, ...problems(answer.body).map((p) => el('li', { text: p }))));
  }
}

// --- vehicles --------------------------------------------------------------------------------------

async function loadVehicles() {
  const answer = await api('/v1/operator/vehicles');
  const box = $('vehicles');
  if (answer.status === 404 || answer.status === 405) {
    box.replaceChildren(el('p', { text: t('op.noVehicleApi') }));
    return;
  }
  if (!answer.ok) return;
  $('vehicle-form').hidden = false;
  box.replaceChildren(el('table', { class: 'table' },
    el('tbody', {}, ...answer.body.map((v) => el('tr', { 'data-vehicle': v.id },
      el('th', { scope: 'row', text: `${v.id} – ${v.name}` }),
      el('td', { text: `${v.seats} / ♿ ${v.wheelchair_spaces}` }),
      el('td', { text: t(v.active ? 'op.inService' : 'op.outOfService') }),
      el('td', { class: 'row-actions' }, el('button', {
        type: 'button', class: v.active ? 'danger' : 'secondary', text: t(v.active ? 'op.withdraw' : 'op.return'),
        onclick: () => toggleService(v),
      }), el('button', {
        type: 'button', class: 'secondary', text: t('op.shifts'), 'aria-expanded': String(state.shiftsOf === v.id),
        onclick: () => showShifts(state.shiftsOf === v.id ? null : v.id),
      })))))));
  if (state.shiftsOf) showShifts(state.shiftsOf);
}

/** The shifts of bus `vehicleId` (GET .../shifts) with a delete button each and a form for a new one. */
async function showShifts(vehicleId) {
  state.shiftsOf = vehicleId;
  const box = $('shifts');
  for (const button of $('vehicles').querySelectorAll('button[aria-expanded]')) {
    button.setAttribute('aria-expanded', String(button.closest('tr').dataset.vehicle === vehicleId));
  }
  if (!vehicleId) {
    box.replaceChildren();
    return;
  }
  const answer = await api(`/v1/operator/vehicles/${encodeURIComponent(vehicleId)}/shifts`);
  if (!answer.ok) {
    box.replaceChildren(el('p', { class: 'error', text: t('op.error', { message: errorText(answer.body) }) }));
    return;
  }
  const day = state.me.now.slice(0, 10);
  const form = el('form', { class: 'grid-form', novalidate: true },
    el('label', {}, el('span', { text: t('rider.date') }), el('input', { name: 'date', type: 'date', value: day })),
    el('label', {}, el('span', { text: t('op.shiftStart') }), el('input', { name: 'start', type: 'time', value: '06:00' })),
    el('label', {}, el('span', { text: t('op.shiftEnd') }), el('input', { name: 'end', type: 'time', value: '14:00' })),
    el('button', { type: 'submit', text: t('op.addShift') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const f = new FormData(form);
    addShift(vehicleId, f.get('date'), f.get('start'), f.get('end'));
  });
  box.replaceChildren(el('h3', { text: `${t('op.shifts')}: ${vehicleId}` }),
    el('ul', { class: 'shift-list' }, ...answer.body.map((shift) => el('li', { 'data-shift': String(shift.id) },
      `${shift.starts_at.slice(0, 10)} ${hhmm(shift.starts_at)}–${hhmm(shift.ends_at)}`
        + (shift.breaks.length ? ` (${t('driver.break')} ×${shift.breaks.length})` : ''), ' ',
      el('button', { type: 'button', class: 'danger', text: t('op.deleteShift'),
        onclick: () => deleteShift(vehicleId, shift.id) })))),
    form);
}

async function addShift(vehicleId, date, start, end) {
  const answer = await api(`/v1/operator/vehicles/${encodeURIComponent(vehicleId)}/shifts`, {
    method: 'POST',
    body: { starts_at: serviceTime(state.me, date, start), ends_at: serviceTime(state.me, date, end), breaks: [] },
  });
  $('vehicles-message').replaceChildren(...(answer.ok ? [] : problems(answer.body).map((p) => el('p', { class: 'error', text: p }))));
  await loadVehicles();
  refreshSoon();
}

async function deleteShift(vehicleId, shiftId) {
  const answer = await api(`/v1/operator/vehicles/${encodeURIComponent(vehicleId)}/shifts/${shiftId}`, { method: 'DELETE' });
  $('vehicles-message').replaceChildren(...(answer.ok ? [] : problems(answer.body).map((p) => el('p', { class: 'error', text: p }))));
  await loadVehicles();
  refreshSoon();
}

async function toggleService(vehicle) {
  const path = vehicle.active ? 'out-of-service' : 'in-service';
  const answer = await api(`/v1/operator/vehicles/${encodeURIComponent(vehicle.id)}/${path}`, { method: 'POST' });
  $('vehicles-message').textContent = answer.ok ? '' : t('op.error', { message: errorText(answer.body) });
  await loadVehicles();
  refreshSoon();
}

async function addVehicle(event) {
  event.preventDefault();
  const f = new FormData($('vehicle-form'));
  const answer = await api('/v1/operator/vehicles', {
    method: 'POST',
    body: {
      id: f.get('id'), name: f.get('name'), seats: Number(f.get('seats')),
      wheelchair_spaces: Number(f.get('wheelchair_spaces')), depot: { lat: Number(f.get('lat')), lon: Number(f.get('lon')) },
    },
  });
  $('vehicles-message').replaceChildren(...(answer.ok ? [] : problems(answer.body).map((p) => el('p', { class: 'error', text: p }))));
  await loadVehicles();
}

// --- simulations -----------------------------------------------------------------------------------

async function startSimulation(event) {
  event.preventDefault();
  const f = new FormData($('simulation'));
  const answer = await api('/v1/operator/simulations', {
    method: 'POST', body: { buses: Number(f.get('buses')), requests: Number(f.get('requests')), seed: Number(f.get('seed')) },
  });
  const box = $('simulation-status');
  if (answer.status === 404 || answer.status === 405) {
    box.textContent = t('op.noSimApi');
    return;
  }
  if (!answer.ok) {
    box.replaceChildren(...problems(answer.body).map((p) => el('p', { class: 'error', text: p })));
    return;
  }
  followSimulation(answer.body.id);
}

async function followSimulation(id) {
  const box = $('simulation-status');
  const answer = await api(`/v1/operator/simulations/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    box.textContent = t('op.error', { message: errorText(answer.body) });
    return;
  }
  const job = answer.body;
  const line = el('p', { text: t('op.simStatus', { id: id.slice(0, 8), status: t(`sim.${job.status}`), done: job.requests_simulated, total: job.requests_total }) });
  if (job.status === 'queued' || job.status === 'running') {
    box.replaceChildren(line);
    setTimeout(() => followSimulation(id), 1000);
    return;
  }
  const parts = [line];
  if (job.error) parts.push(el('p', { class: 'error', text: job.error }));
  if (job.kpis) {
    parts.push(el('dl', { class: 'kpis' }, ...Object.entries(job.kpis).filter(([, v]) => typeof v !== 'object')
      .flatMap(([name, value]) => [el('dt', { text: name }), el('dd', { text: typeof value === 'number' ? String(Math.round(value * 100) / 100) : String(value) })])));
  }
  if (job.status === 'done') {
    parts.push(el('button', { type: 'button', class: 'secondary', text: t('op.simReport'), onclick: () => openReport(job.report_url) }));
  }
  box.replaceChildren(...parts);
}

/** The report needs the access token, so it is fetched here and shown from a blob URL. */
async function openReport(url) {
  const response = await fetch(url, { headers: await authHeaders() });
  const blob = new Blob([await response.text()], { type: 'text/html' });
  window.open(URL.createObjectURL(blob), '_blank', 'noopener');
}

async function main() {
  state.me = await signIn('operator');
  state.map = await baseMap($('map'));
  await Promise.all([loadFleet(), loadKpis(), loadRules(), loadVehicles(), loadExceptions(),
    loadCalendar(state.me.now.slice(0, 10)), initDesk(state.me, state.map), loadMeetingPoints(state.map),
    initReports(state.me), initControl(state.me), initTariff()]);
  initTwin(state.me);
  initOutbox();
  setInterval(loadExceptions, EXCEPTIONS_EVERY_MS);
  liveStream('/v1/operator/stream', onLive, (connected) => showLive($('live'), connected));
  $('rules').addEventListener('submit', saveRules);
  $('vehicle-form').addEventListener('submit', addVehicle);
  $('simulation').addEventListener('submit', startSimulation);
  onLanguage(() => {
    renderFleet();
    renderKpis();
    renderExceptions();
    loadVehicles();
    loadCalendar();
    loadMeetingPoints();
  });
  document.body.dataset.ready = 'true';
}

main();
