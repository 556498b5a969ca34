// The operators' booking desk and demand layer on /operator: search bookings (GET /v1/operator/bookings by
// day, status, rider, bus), a booking's detail with its history (GET /v1/operator/bookings/{id}) and
// cancelling it for the rider (DELETE /v1/bookings/{id}); a phone booking: find the caller (GET
// /v1/operator/riders?q=) or record them (POST /v1/operator/riders), quote for them (POST
// /v1/operator/riders/{id}/quotes) and book (POST /v1/bookings); and unmet demand on the map (GET
// /v1/operator/demand): one square per grid cell, coloured by the share of quotes refused, per hour.

import { api, el, errorText, hhmm, serviceTime, today } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';
import { L } from './map.js';
import { fareItem } from './price.js';

addStrings({
  de: {
    'desk.title': 'Buchungsschalter', 'desk.search': 'Suchen', 'desk.day': 'Tag', 'desk.status': 'Status',
    'desk.any': '– alle –', 'desk.rider': 'Fahrgast (Name/Telefon)', 'desk.bus': 'Bus', 'desk.none': 'Keine Buchungen.',
    'desk.pickup': 'Abholung', 'desk.bookedBy': 'gebucht von', 'desk.cancel': 'Für den Fahrgast stornieren',
    'desk.cancelled': 'Storniert.', 'desk.history': 'Verlauf', 'desk.phone': 'Telefonbuchung',
    'desk.caller': 'Anrufer suchen (Name/Telefon)', 'desk.find': 'Suchen', 'desk.choose': 'Wählen',
    'desk.name': 'Name', 'desk.phoneNo': 'Telefon', 'desk.record': 'Neu anlegen', 'desk.for': 'Für: {name}',
    'desk.from': 'Von', 'desk.to': 'Nach', 'desk.time': 'Abfahrt ab', 'desk.seats': 'Personen',
    'desk.quote': 'Angebot einholen', 'desk.offer': 'Abholung {start}–{end}, Ankunft ca. {arrival}',
    'desk.book': 'Buchen', 'desk.booked': 'Gebucht: {id} (Bus {bus})', 'desk.noCaller': 'Bitte zuerst den Anrufer wählen.',
    'desk.demand': 'Nachfrage', 'desk.hour': 'Stunde', 'desk.allHours': 'ganzer Tag',
    'desk.cell': '{asked} angefragt, {served} gebucht, {refused} abgelehnt',
  },
  en: {
    'desk.title': 'Booking desk', 'desk.search': 'Search', 'desk.day': 'Day', 'desk.status': 'Status',
    'desk.any': '– any –', 'desk.rider': 'Rider (name/phone)', 'desk.bus': 'Bus', 'desk.none': 'No bookings.',
    'desk.pickup': 'Pickup', 'desk.bookedBy': 'booked by', 'desk.cancel': 'Cancel for the rider',
    'desk.cancelled': 'Cancelled.', 'desk.history': 'History', 'desk.phone': 'Phone booking',
    'desk.caller': 'Find the caller (name/phone)', 'desk.find': 'Find', 'desk.choose': 'Choose',
    'desk.name': 'Name', 'desk.phoneNo': 'Phone', 'desk.record': 'Record new', 'desk.for': 'For: {name}',
    'desk.from': 'From', 'desk.to': 'To', 'desk.time': 'Leave after', 'desk.seats': 'People',
    'desk.quote': 'Get an offer', 'desk.offer': 'Pickup {start}–{end}, arrival about {arrival}',
    'desk.book': 'Book', 'desk.booked': 'Booked: {id} (bus {bus})', 'desk.noCaller': 'Please choose the caller first.',
    'desk.demand': 'Demand', 'desk.hour': 'Hour', 'desk.allHours': 'whole day',
    'desk.cell': '{asked} asked, {served} booked, {refused} refused',
  },
});

const STATUSES = ['booked', 'picked_up', 'completed', 'cancelled', 'no_show', 'rejected'];
const state = { me: null, map: null, places: [], caller: null, quote: null, demand: [], layer: null };
const $ = (id) => document.getElementById(id);

function field(label, input) {
  return el('label', {}, el('span', { text: t(label) }), ' ', input);
}

function placeSelect(name) {
  return el('select', { name }, ...state.places.map((p, i) => el('option', { value: String(i), text: p.name })));
}

function build() {
  const statuses = el('select', { name: 'status' }, el('option', { value: '', text: t('desk.any') }),
    ...STATUSES.map((s) => el('option', { value: s, text: t(`status.${s}`) })));
  $('desk').replaceChildren(
    el('form', { id: 'desk-search', class: 'grid-form', novalidate: true, onsubmit: search },
      field('desk.day', el('input', { name: 'day', type: 'date', value: state.me.now.slice(0, 10) })),
      field('desk.status', statuses), field('desk.rider', el('input', { name: 'rider' })),
      field('desk.bus', el('input', { name: 'bus' })),
      el('button', { type: 'submit', text: t('desk.search') })),
    el('table', { id: 'desk-results', class: 'table' }, el('tbody')),
    el('div', { id: 'desk-detail', 'aria-live': 'polite' }),
    el('h3', { text: t('desk.phone') }),
    el('form', { id: 'desk-caller', class: 'grid-form', novalidate: true, onsubmit: findCaller },
      field('desk.caller', el('input', { name: 'q', required: true })),
      el('button', { type: 'submit', text: t('desk.find') })),
    el('ul', { id: 'desk-callers' }),
    el('form', { id: 'desk-new-caller', class: 'grid-form', novalidate: true, onsubmit: recordCaller },
      field('desk.name', el('input', { name: 'name', required: true })),
      field('desk.phoneNo', el('input', { name: 'phone', type: 'tel' })),
      el('button', { type: 'submit', text: t('desk.record') })),
    el('p', { id: 'desk-for', role: 'status' }),
    el('form', { id: 'desk-trip', class: 'grid-form', novalidate: true, onsubmit: quote },
      field('desk.from', placeSelect('from')), field('desk.to', placeSelect('to')),
      field('desk.time', el('input', { name: 'time', type: 'time', value: '09:00' })),
      field('desk.seats', el('input', { name: 'seats', type: 'number', min: '1', max: '50', value: '1' })),
      el('button', { type: 'submit', text: t('desk.quote') })),
    el('div', { id: 'desk-offer', role: 'status', 'aria-live': 'polite' }),
  );
  if (state.places.length > 1) $('desk-trip').elements.to.value = '1';
  const hours = el('select', { id: 'demand-hour', onchange: drawDemand },
    el('option', { value: '', text: t('desk.allHours') }),
    ...Array.from({ length: 24 }, (_, h) => el('option', { value: String(h).padStart(2, '0'), text: `${String(h).padStart(2, '0')}:00` })));
  $('demand').replaceChildren(field('desk.hour', hours), el('p', { id: 'demand-summary', role: 'status' }));
}

// --- search and detail ---------------------------------------------------------------------------------

async function search(event) {
  event?.preventDefault();
  const form = $('desk-search').elements;
  const params = new URLSearchParams();
  if (form.day.value) params.set('day', form.day.value);
  if (form.status.value) params.set('status', form.status.value);
  if (form.rider.value.trim()) params.set('rider', form.rider.value.trim());
  if (form.bus.value.trim()) params.set('vehicle_id', form.bus.value.trim());
  const answer = await api(`/v1/operator/bookings?${params}`);
  const body = $('desk-results').tBodies[0];
  if (!answer.ok) {
    body.replaceChildren(el('tr', {}, el('td', { text: t('op.error', { message: errorText(answer.body) }) })));
    return;
  }
  body.replaceChildren(...(answer.body.items.length ? answer.body.items.map((b) => el('tr', { 'data-booking': b.id },
    el('td', {}, el('button', { type: 'button', class: 'link', text: b.id.slice(0, 8), onclick: () => detail(b.id) })),
    el('td', { text: b.pickup_window ? `${hhmm(b.pickup_window.start)}–${hhmm(b.pickup_window.end)}` : '–' }),
    el('td', { class: 'rider', text: b.rider ? `${b.rider.name}${b.rider.phone ? ` (${b.rider.phone})` : ''}` : '–' }),
    el('td', { text: t(`status.${b.status}`) }), el('td', { text: b.vehicle_id ?? '–' }),
    el('td', { class: 'booked-by', text: b.booked_by ? b.booked_by.name : '–' })))
    : [el('tr', {}, el('td', { text: t('desk.none') }))]));
}

async function detail(id) {
  const answer = await api(`/v1/operator/bookings/${encodeURIComponent(id)}`);
  if (!answer.ok) {
    $('desk-detail').textContent = t('op.error', { message: errorText(answer.body) });
    return;
  }
  const b = answer.body;
  $('desk-detail').replaceChildren(
    el('p', { class: 'summary', text: `${b.id} · ${t(`status.${b.status}`)} · ${b.rider?.name ?? '–'} · ${t('desk.bookedBy')} ${b.booked_by?.name ?? '–'}` }),
    el('h4', { text: t('desk.history') }),
    el('ol', { class: 'history' }, ...b.events.map((e) => el('li', { 'data-kind': e.kind,
      text: `${hhmm(e.time)} ${e.kind}${e.actor_name ? ` (${e.actor_name})` : ''}` }))),
    b.status === 'booked' ? el('button', { type: 'button', text: t('desk.cancel'), onclick: () => cancel(b.id) }) : null,
  );
}

async function cancel(id) {
  const answer = await api(`/v1/bookings/${encodeURIComponent(id)}`, { method: 'DELETE' });
  if (!answer.ok) {
    $('desk-detail').append(el('p', { role: 'alert', text: t('op.error', { message: errorText(answer.body) }) }));
    return;
  }
  await Promise.all([detail(id), search()]);
}

// --- phone booking ---------------------------------------------------------------------------------------

function choose(rider) {
  state.caller = rider;
  $('desk-for').textContent = t('desk.for', { name: `${rider.name}${rider.phone ? ` (${rider.phone})` : ''}` });
}

async function findCaller(event) {
  event.preventDefault();
  const q = $('desk-caller').elements.q.value.trim();
  if (!q) return;
  const answer = await api(`/v1/operator/riders?q=${encodeURIComponent(q)}`);
  const list = answer.ok ? answer.body : [];
  $('desk-callers').replaceChildren(...list.map((r) => el('li', {}, `${r.name} ${r.phone ?? ''} `,
    el('button', { type: 'button', text: t('desk.choose'), onclick: () => choose(r) }))));
  if (!answer.ok) $('desk-for').textContent = t('op.error', { message: errorText(answer.body) });
}

async function recordCaller(event) {
  event.preventDefault();
  const form = $('desk-new-caller').elements;
  const body = { name: form.name.value.trim(), phone: form.phone.value.trim() || null };
  const answer = await api('/v1/operator/riders', { method: 'POST', body });
  if (!answer.ok) {
    $('desk-for').textContent = t('op.error', { message: errorText(answer.body) });
    return;
  }
  choose(answer.body);
}

async function quote(event) {
  event.preventDefault();
  if (!state.caller) {
    $('desk-offer').textContent = t('desk.noCaller');
    return;
  }
  const form = $('desk-trip').elements;
  const [from, to] = [state.places[Number(form.from.value)], state.places[Number(form.to.value)]];
  const body = { origin: { lat: from.lat, lon: from.lon }, destination: { lat: to.lat, lon: to.lon },
    time_type: 'leave_after', time: serviceTime(state.me, state.me.now.slice(0, 10), form.time.value),
    seats: Number(form.seats.value) || 1, wheelchairs: 0 };
  const answer = await api(`/v1/operator/riders/${state.caller.id}/quotes`, { method: 'POST', body });
  if (!answer.ok) {
    $('desk-offer').textContent = t('op.error', { message: errorText(answer.body) });
    return;
  }
  const offer = answer.body;
  $('desk-offer').replaceChildren(
    el('p', { text: t('desk.offer', { start: hhmm(offer.pickup_window.start), end: hhmm(offer.pickup_window.end),
      arrival: hhmm(offer.estimated_arrival) }) }),
    el('ul', { class: 'plain' }, fareItem(offer.fare)),
    el('button', { type: 'button', text: t('desk.book'), onclick: () => book(offer.quote_id) }));
}

async function book(quoteId) {
  const answer = await api('/v1/bookings', { method: 'POST', body: { quote_id: quoteId },
    headers: { 'Idempotency-Key': quoteId } });
  $('desk-offer').textContent = answer.ok ? t('desk.booked', { id: answer.body.id, bus: answer.body.vehicle_id })
    : t('op.error', { message: errorText(answer.body) });
  if (answer.ok) await search();
}

// --- demand on the map -------------------------------------------------------------------------------------

async function loadDemand() {
  const [from, to] = today(state.me);
  const answer = await api(`/v1/operator/demand?from=${encodeURIComponent(from)}&to=${encodeURIComponent(to)}`);
  state.demand = answer.ok ? answer.body.cells : [];
  state.cellM = answer.ok ? answer.body.cell_m : 300;
  drawDemand();
}

function drawDemand() {
  const hour = $('demand-hour').value;
  const cells = new Map();
  for (const c of state.demand) {
    if (hour && c.hour.slice(11, 13) !== hour) continue;
    const sum = cells.get(c.cell) ?? { ...c, asked: 0, served: 0, refused: 0 };
    sum.asked += c.asked; sum.served += c.served; sum.refused += c.refused;
    cells.set(c.cell, sum);
  }
  if (state.layer) state.layer.remove();
  const half = state.cellM / 2 / 111195;
  state.layer = L.layerGroup([...cells.values()].map((c) => {
    const share = c.asked ? c.refused / c.asked : 0;
    const dLon = half / Math.cos((c.lat * Math.PI) / 180);
    return L.rectangle([[c.lat - half, c.lon - dLon], [c.lat + half, c.lon + dLon]], {
      color: '#555', weight: 1, fillOpacity: 0.55, fillColor: `hsl(${Math.round(120 * (1 - share))}, 70%, 45%)`,
      className: 'demand-cell',
    }).bindTooltip(t('desk.cell', c));
  })).addTo(state.map);
  const totals = [...cells.values()].reduce((a, c) => ({ asked: a.asked + c.asked, served: a.served + c.served,
    refused: a.refused + c.refused }), { asked: 0, served: 0, refused: 0 });
  $('demand-summary').textContent = t('desk.cell', totals);
}

/** Set up the desk and the demand layer on the operator's page (signed in as `me`, map `map`). */
export async function initDesk(me, map) {
  state.me = me;
  state.map = map;
  state.places = await (await fetch('/map/places')).json();
  build();
  await Promise.all([search(), loadDemand()]);
  onLanguage(() => { build(); search(); drawDemand(); });
}
