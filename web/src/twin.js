// The digital twin on /operator: choose recorded day(s) and a change (fleet size, maximum wait, pickup
// window, meeting-point mode, one shift for every bus), run it (POST /v1/operator/twin, a job of the
// simulation worker), follow it (GET /v1/operator/twin/{id}) and read recorded, as-recorded and proposal
// side by side; apply the proposed rules (POST /v1/operator/twin/{id}/apply: a new rules version).

import { api, el, errorText } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';

addStrings({
  de: {
    'twin.title': 'Digitaler Zwilling', 'twin.from': 'Von', 'twin.to': 'Bis', 'twin.buses': 'Busse',
    'twin.maxWait': 'Max. Wartezeit (min)', 'twin.window': 'Abholfenster (min)', 'twin.mode': 'Treffpunkte',
    'twin.unchanged': 'unverändert', 'twin.shiftStart': 'Schicht ab', 'twin.shiftEnd': 'Schicht bis',
    'twin.run': 'Zwilling starten', 'twin.running': 'Läuft … {done} von {total} Anfragen',
    'twin.failed': 'Fehlgeschlagen: {message}', 'twin.cancelled': 'Abgebrochen.',
    'twin.recorded': 'Aufgezeichnet', 'twin.baseline': 'Zwilling wie aufgezeichnet', 'twin.proposal': 'Vorschlag',
    'twin.requests': 'Anfragen', 'twin.served': 'Befördert', 'twin.servedPct': 'Befördert %',
    'twin.wait': 'Wartezeit (Mittel, min)', 'twin.rtf': 'Fahrzeitfaktor', 'twin.km': 'Fahrzeug-km',
    'twin.hours': 'Fahrzeugstunden', 'twin.costPerTrip': 'Kosten pro Fahrt',
    'twin.apply': 'Vorgeschlagene Regeln übernehmen', 'twin.applied': 'Regeln übernommen (Version {version}).',
  },
  en: {
    'twin.title': 'Digital twin', 'twin.from': 'From', 'twin.to': 'To', 'twin.buses': 'Buses',
    'twin.maxWait': 'Max. wait (min)', 'twin.window': 'Pickup window (min)', 'twin.mode': 'Meeting points',
    'twin.unchanged': 'unchanged', 'twin.shiftStart': 'Shift from', 'twin.shiftEnd': 'Shift to',
    'twin.run': 'Run twin', 'twin.running': 'Running … {done} of {total} requests',
    'twin.failed': 'Failed: {message}', 'twin.cancelled': 'Cancelled.',
    'twin.recorded': 'Recorded', 'twin.baseline': 'Twin as recorded', 'twin.proposal': 'Proposal',
    'twin.requests': 'Requests', 'twin.served': 'Served', 'twin.servedPct': 'Served %',
    'twin.wait': 'Wait (mean, min)', 'twin.rtf': 'Ride-time factor', 'twin.km': 'Vehicle-km',
    'twin.hours': 'Vehicle-hours', 'twin.costPerTrip': 'Cost per trip',
    'twin.apply': 'Apply proposed rules', 'twin.applied': 'Rules applied (version {version}).',
  },
});

const MODES = ['door_to_door', 'stops_only', 'hybrid'];
const FIGURES = [['requests', 'twin.requests'], ['served', 'twin.served'], ['served_pct', 'twin.servedPct'],
  ['wait_mean_min', 'twin.wait'], ['ride_time_factor', 'twin.rtf'], ['vehicle_km', 'twin.km'],
  ['vehicle_hours', 'twin.hours'], ['cost_per_trip', 'twin.costPerTrip']];
const POLL_MS = 1000;
const state = { day: null, job: null, timer: null, message: null };
const $ = (id) => document.getElementById(id);

/** Build the panel; the days default to the service's today. */
export function initTwin(me) {
  state.day = me.now.slice(0, 10);
  build();
  onLanguage(build);
}

function field(label, input) {
  return el('label', {}, el('span', { text: label }), ' ', input);
}

function build() {
  const mode = el('select', { name: 'mode' }, el('option', { value: '', text: t('twin.unchanged') }),
    ...MODES.map((name) => el('option', { value: name, text: t(`mode.${name}`) })));
  const form = el('form', { id: 'twin-form', class: 'grid-form', novalidate: true, onsubmit: run },
    field(t('twin.from'), el('input', { name: 'from', type: 'date', value: state.day, required: true })),
    field(t('twin.to'), el('input', { name: 'to', type: 'date', value: state.day })),
    field(t('twin.buses'), el('input', { name: 'buses', type: 'number', min: '1', max: '200', step: '1' })),
    field(t('twin.maxWait'), el('input', { name: 'max_wait_min', type: 'number', min: '0', step: '1' })),
    field(t('twin.window'), el('input', { name: 'pickup_window_min', type: 'number', min: '0', step: '1' })),
    field(t('twin.mode'), mode),
    field(t('twin.shiftStart'), el('input', { name: 'shift_start', type: 'time' })),
    field(t('twin.shiftEnd'), el('input', { name: 'shift_end', type: 'time' })),
    el('button', { type: 'submit', text: t('twin.run') }));
  $('twin').replaceChildren(form, el('div', { id: 'twin-result' }));
  render();
}

function seconds(time) {
  const [hours, minutes] = time.split(':').map(Number);
  return hours * 3600 + minutes * 60;
}

function body(form) {
  const data = new FormData(form);
  const value = (name) => String(data.get(name) ?? '').trim();
  const change = { from: value('from') };
  if (value('to')) change.to = value('to');
  if (value('buses')) change.buses = Number(value('buses'));
  const rules = {};
  if (value('max_wait_min')) rules.max_wait_s = Math.round(Number(value('max_wait_min')) * 60);
  if (value('pickup_window_min')) rules.pickup_window_s = Math.round(Number(value('pickup_window_min')) * 60);
  if (Object.keys(rules).length) change.rules = rules;
  if (value('mode')) change.mode = value('mode');
  if (value('shift_start') || value('shift_end')) {
    change.shift_start_s = value('shift_start') ? seconds(value('shift_start')) : null;
    change.shift_end_s = value('shift_end') ? seconds(value('shift_end')) : null;
  }
  return change;
}

async function run(event) {
  event.preventDefault();
  clearTimeout(state.timer);
  state.message = null;
  const answer = await api('/v1/operator/twin', { method: 'POST', body: body(event.target) });
  if (!answer.ok) {
    state.job = null;
    state.message = { error: true, text: t('op.error', { message: errorText(answer.body) }) };
    render();
    return;
  }
  state.job = answer.body;
  render();
  follow();
}

async function follow() {
  const answer = await api(`/v1/operator/twin/${encodeURIComponent(state.job.id)}`);
  if (answer.ok) state.job = answer.body;
  render();
  if (['queued', 'running'].includes(state.job.status)) state.timer = setTimeout(follow, POLL_MS);
}

function cell(value) {
  return el('td', { text: value === null || value === undefined ? '–' : String(value) });
}

function render() {
  const out = $('twin-result');
  if (!out) return;
  const parts = [];
  const job = state.job;
  if (job && ['queued', 'running'].includes(job.status)) {
    parts.push(el('p', { 'aria-live': 'polite', text: t('twin.running', { done: job.requests_simulated, total: job.requests_total }) }));
  } else if (job && job.status === 'failed') {
    parts.push(el('p', { class: 'error', text: t('twin.failed', { message: job.error ?? '' }) }));
  } else if (job && job.status === 'cancelled') {
    parts.push(el('p', { text: t('twin.cancelled') }));
  } else if (job && job.status === 'done') {
    const head = el('tr', {}, el('th', { scope: 'col' }), ...['twin.recorded', 'twin.baseline', 'twin.proposal']
      .map((key) => el('th', { scope: 'col', text: t(key) })));
    const rows = FIGURES.map(([key, label]) => el('tr', { 'data-figure': key }, el('th', { scope: 'row', text: t(label) }),
      cell(job.recorded?.[key]), cell(job.baseline?.[key]), cell(job.proposal?.[key])));
    parts.push(el('table', { id: 'twin-table', class: 'table' }, el('thead', {}, head), el('tbody', {}, ...rows)));
    const changesRules = Object.keys(job.change.rules ?? {}).length > 0 || job.change.mode;
    if (changesRules) parts.push(el('button', { type: 'button', id: 'twin-apply', text: t('twin.apply'), onclick: apply }));
  }
  if (state.message) parts.push(el('p', { role: 'alert', class: state.message.error ? 'error' : '', text: state.message.text }));
  out.replaceChildren(...parts);
}

async function apply() {
  const answer = await api(`/v1/operator/twin/${encodeURIComponent(state.job.id)}/apply`, { method: 'POST' });
  state.message = answer.ok ? { error: false, text: t('twin.applied', { version: answer.body.version }) }
    : { error: true, text: t('op.error', { message: errorText(answer.body) }) };
  render();
}
