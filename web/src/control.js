// Manual control of the plan on /operator: pick a bus, see its route with pins and lock (GET
// /v1/operator/vehicles/{id}/plan), move a booking to another bus (POST …/bookings/{id}/move), pin or
// unpin it, lock or unlock the route's order, add an ad-hoc break (POST …/vehicles/{id}/breaks); a refusal
// shows the broken rule. Today's audit log of manual changes (GET /v1/operator/audit) below.

import { api, el, errorText, hhmm } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';

addStrings({
  de: {
    'ctl.title': 'Plan steuern', 'ctl.bus': 'Bus', 'ctl.moveTo': 'Verschieben auf', 'ctl.move': 'Verschieben',
    'ctl.pin': 'Festhalten', 'ctl.unpin': 'Lösen', 'ctl.pinned': 'festgehalten', 'ctl.lock': 'Reihenfolge sperren',
    'ctl.unlock': 'Sperre aufheben', 'ctl.allowNew': 'neue Fahrgäste zulassen', 'ctl.locked': 'Sperre: {lock}',
    'ctl.break': 'Pause einfügen', 'ctl.from': 'Beginn frühestens', 'ctl.to': 'Beginn spätestens',
    'ctl.minutes': 'Dauer (min)', 'ctl.here': 'am jetzigen Standort', 'ctl.moveRiders': 'Fahrgäste umplanen',
    'ctl.refused': 'Abgelehnt ({code}): {message}', 'ctl.done': 'Erledigt: {action}', 'ctl.audit': 'Protokoll heute',
    'ctl.empty': 'Keine Halte.', 'ctl.noAudit': 'Noch keine Eingriffe.',
    'ctl.lock.none': 'keine', 'ctl.lock.order': 'Reihenfolge', 'ctl.lock.closed': 'geschlossen',
  },
  en: {
    'ctl.title': 'Control the plan', 'ctl.bus': 'Bus', 'ctl.moveTo': 'Move to', 'ctl.move': 'Move',
    'ctl.pin': 'Pin', 'ctl.unpin': 'Unpin', 'ctl.pinned': 'pinned', 'ctl.lock': 'Lock order',
    'ctl.unlock': 'Unlock', 'ctl.allowNew': 'allow new riders', 'ctl.locked': 'Lock: {lock}',
    'ctl.break': 'Add break', 'ctl.from': 'Start from', 'ctl.to': 'Start by',
    'ctl.minutes': 'Length (min)', 'ctl.here': 'where the bus is', 'ctl.moveRiders': 'move riders',
    'ctl.refused': 'Refused ({code}): {message}', 'ctl.done': 'Done: {action}', 'ctl.audit': "Today's log",
    'ctl.empty': 'No stops.', 'ctl.noAudit': 'No changes yet.',
    'ctl.lock.none': 'none', 'ctl.lock.order': 'order', 'ctl.lock.closed': 'closed',
  },
});

const BASE = '/v1/operator';
const state = { me: null, buses: [], bus: null, route: null, audit: [] };
const $ = (id) => document.getElementById(id);

function tell(text, isError = false) {
  $('control-message').replaceChildren(el('p', { class: isError ? 'error' : '', text }));
}

/** Run one change; show the refusal's rule or reload the route and the log. */
async function change(path, method = 'POST', body = undefined) {
  const answer = await api(`${BASE}${path}`, { method, body });
  if (!answer.ok) {
    tell(t('ctl.refused', { code: answer.body?.code ?? answer.status, message: errorText(answer.body) }), true);
    return;
  }
  tell(t('ctl.done', { action: answer.body.action }));
  await Promise.all([loadRoute(), loadAudit()]);
}

async function loadRoute() {
  if (!state.bus) return;
  const answer = await api(`${BASE}/vehicles/${encodeURIComponent(state.bus)}/plan`);
  state.route = answer.ok ? answer.body : null;
  render();
}

async function loadAudit() {
  const answer = await api(`${BASE}/audit?day=${state.me.now.slice(0, 10)}`);
  state.audit = answer.ok ? answer.body : [];
  render();
}

function stopRow(stop) {
  const cells = [el('td', { text: hhmm(stop.planned_start) }), el('td', { text: t(`driver.${stop.kind}`) }),
    el('td', { text: stop.booking_id ?? '' }, stop.pinned ? el('span', { class: 'pinned', text: ` (${t('ctl.pinned')})` }) : null)];
  if (stop.booking_id && stop.kind === 'pickup') {
    const target = el('select', { 'aria-label': t('ctl.moveTo'), class: 'move-target' },
      ...state.buses.filter((id) => id !== state.bus).map((id) => el('option', { value: id, text: id })));
    const id = encodeURIComponent(stop.booking_id);
    cells.push(el('td', {}, target,
      el('button', { type: 'button', class: 'move', text: t('ctl.move'), onclick: () => change(`/bookings/${id}/move`, 'POST', { vehicle_id: target.value }) }),
      el('button', { type: 'button', class: 'pin', text: t(stop.pinned ? 'ctl.unpin' : 'ctl.pin'),
        onclick: () => change(`/bookings/${id}/pin`, stop.pinned ? 'DELETE' : 'POST') })));
  } else cells.push(el('td'));
  return el('tr', { 'data-booking': stop.booking_id ?? '', 'data-kind': stop.kind }, ...cells);
}

function breakForm() {
  const form = el('form', { id: 'control-break', class: 'grid-form' },
    el('label', {}, t('ctl.from'), el('input', { name: 'from', type: 'time', required: true })),
    el('label', {}, t('ctl.to'), el('input', { name: 'to', type: 'time', required: true })),
    el('label', {}, t('ctl.minutes'), el('input', { name: 'minutes', type: 'number', min: 1, max: 240, value: 30 })),
    el('label', {}, el('input', { name: 'here', type: 'checkbox' }), t('ctl.here')),
    el('label', {}, el('input', { name: 'moveRiders', type: 'checkbox' }), t('ctl.moveRiders')),
    el('button', { type: 'submit', text: t('ctl.break') }));
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    const data = new FormData(form);
    const day = state.me.now.slice(0, 10);
    const at = (time) => new Date(`${day}T${time}`).toISOString();
    change(`/vehicles/${encodeURIComponent(state.bus)}/breaks`, 'POST', {
      earliest_start: at(data.get('from')), latest_start: at(data.get('to')),
      duration_s: Number(data.get('minutes')) * 60, at: data.get('here') ? 'here' : 'depot',
      move_riders: Boolean(data.get('moveRiders')),
    });
  });
  return form;
}

function render() {
  const box = $('control');
  if (!box) return;
  const pick = el('select', { id: 'control-bus', 'aria-label': t('ctl.bus') },
    ...state.buses.map((id) => el('option', { value: id, text: id, selected: id === state.bus })));
  pick.addEventListener('change', () => { state.bus = pick.value; loadRoute(); });
  const route = state.route;
  const bus = encodeURIComponent(state.bus ?? '');
  const allow = el('input', { type: 'checkbox', id: 'control-allow-new' });
  const lock = route?.lock ?? 'none';
  const parts = [el('p', {}, el('label', {}, `${t('ctl.bus')} `, pick),
    el('span', { id: 'control-lock', text: ` ${t('ctl.locked', { lock: t(`ctl.lock.${lock}`) })} ` }),
    lock === 'none'
      ? el('span', {}, el('label', {}, allow, t('ctl.allowNew')),
        el('button', { type: 'button', id: 'control-lock-button', text: t('ctl.lock'),
          onclick: () => change(`/vehicles/${bus}/lock`, 'POST', { allow_insertions: allow.checked }) }))
      : el('button', { type: 'button', id: 'control-lock-button', text: t('ctl.unlock'),
        onclick: () => change(`/vehicles/${bus}/lock`, 'DELETE') }))];
  parts.push(route?.stops.length
    ? el('table', { id: 'control-route', class: 'table' }, el('tbody', {}, ...route.stops.map(stopRow)))
    : el('p', { id: 'control-route', text: t('ctl.empty') }));
  parts.push(breakForm());
  parts.push(el('h3', { text: t('ctl.audit') }));
  parts.push(state.audit.length
    ? el('ul', { id: 'control-audit' }, ...state.audit.map((entry) => el('li', {
      text: `${hhmm(entry.time)} ${entry.operator_name}: ${entry.action} ${entry.booking_id ?? ''} `
        + `${entry.from_vehicle_id ? `${entry.from_vehicle_id} → ` : ''}${entry.vehicle_id ?? ''}` })))
    : el('p', { id: 'control-audit', text: t('ctl.noAudit') }));
  box.replaceChildren(...parts);
}

/** Build the panel for the buses of the fleet; the first bus is shown. */
export async function initControl(me) {
  state.me = me;
  const fleet = await api(`${BASE}/fleet`);
  state.buses = fleet.ok ? fleet.body.map((bus) => bus.id) : [];
  state.bus = state.buses[0] ?? null;
  await Promise.all([loadRoute(), loadAudit()]);
  onLanguage(render);
}

/** Reload the bus shown (after a live route change). */
export function refreshControl() {
  return loadRoute();
}
