// Reports for the county on /operator: the cost settings (GET/PUT /v1/operator/costs: per vehicle-hour,
// per vehicle-km, EUR or CHF), a date range whose bookings and key figures (per day, week or month)
// download as CSV (GET /v1/operator/reports/bookings.csv, …/kpis.csv), and a month whose printable report
// (GET /v1/operator/reports/monthly) opens in a new window. The answers need the access token, so they are
// fetched here and handed to the browser as blob URLs (the report inherits the page's security policy).

import { api, authHeaders, el, errorText } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';

addStrings({
  de: {
    'rep.title': 'Berichte', 'rep.costs': 'Kosten', 'rep.perHour': 'pro Fahrzeugstunde', 'rep.perKm': 'pro Fahrzeug-km',
    'rep.currency': 'Währung', 'rep.save': 'Kosten speichern', 'rep.saved': 'Gespeichert (Version {version}).',
    'rep.from': 'Von', 'rep.to': 'Bis', 'rep.by': 'Je', 'rep.day': 'Tag', 'rep.week': 'Woche', 'rep.month': 'Monat',
    'rep.bookingsCsv': 'Buchungen (CSV)', 'rep.kpisCsv': 'Kennzahlen (CSV)', 'rep.monthOf': 'Monat',
    'rep.open': 'Monatsbericht öffnen',
  },
  en: {
    'rep.title': 'Reports', 'rep.costs': 'Costs', 'rep.perHour': 'per vehicle-hour', 'rep.perKm': 'per vehicle-km',
    'rep.currency': 'Currency', 'rep.save': 'Save costs', 'rep.saved': 'Saved (version {version}).',
    'rep.from': 'From', 'rep.to': 'To', 'rep.by': 'By', 'rep.day': 'day', 'rep.week': 'week', 'rep.month': 'month',
    'rep.bookingsCsv': 'Bookings (CSV)', 'rep.kpisCsv': 'Key figures (CSV)', 'rep.monthOf': 'Month',
    'rep.open': 'Open monthly report',
  },
});

const BASE = '/v1/operator/reports';
const state = { me: null, costs: null, range: null, month: null };
const $ = (id) => document.getElementById(id);

function tell(parts) {
  $('reports-message').replaceChildren(...parts);
}

function fail(body) {
  tell([el('p', { class: 'error', text: t('op.error', { message: errorText(body) }) })]);
}

/** Build the panel; the range defaults to the service's month so far, the month to the current one. */
export async function initReports(me) {
  state.me = me;
  const today = me.now.slice(0, 10);
  state.range = { from: `${today.slice(0, 8)}01`, to: today, by: 'day' };
  state.month = today.slice(0, 7);
  const answer = await api('/v1/operator/costs');
  if (answer.ok) state.costs = answer.body;
  build();
  onLanguage(build);
}

function field(label, input) {
  return el('label', {}, el('span', { text: label }), ' ', input);
}

function build() {
  const costs = state.costs ?? { per_vehicle_hour: 0, per_vehicle_km: 0, currency: 'EUR' };
  const currency = el('select', { name: 'currency' }, ...['EUR', 'CHF'].map((code) => el('option', { value: code, text: code, selected: code === costs.currency })));
  const costForm = el('form', { id: 'reports-costs', class: 'grid-form', novalidate: true, onsubmit: saveCosts },
    field(t('rep.perHour'), el('input', { name: 'per_vehicle_hour', type: 'number', min: '0', step: 'any', value: String(costs.per_vehicle_hour) })),
    field(t('rep.perKm'), el('input', { name: 'per_vehicle_km', type: 'number', min: '0', step: 'any', value: String(costs.per_vehicle_km) })),
    field(t('rep.currency'), currency),
    el('button', { type: 'submit', text: t('rep.save') }));
  const by = el('select', { name: 'by' }, ...['day', 'week', 'month'].map((name) => el('option', { value: name, text: t(`rep.${name}`), selected: name === state.range.by })));
  const rangeForm = el('form', { id: 'reports-range', class: 'grid-form', novalidate: true, onsubmit: (event) => event.preventDefault() },
    field(t('rep.from'), el('input', { name: 'from', type: 'date', value: state.range.from, required: true })),
    field(t('rep.to'), el('input', { name: 'to', type: 'date', value: state.range.to, required: true })),
    field(t('rep.by'), by),
    el('button', { type: 'button', class: 'secondary', text: t('rep.bookingsCsv'), onclick: () => download('bookings.csv') }),
    el('button', { type: 'button', class: 'secondary', text: t('rep.kpisCsv'), onclick: () => download('kpis.csv') }));
  const monthForm = el('form', { id: 'reports-month', class: 'grid-form', novalidate: true, onsubmit: openMonthly },
    field(t('rep.monthOf'), el('input', { name: 'month', type: 'month', value: state.month, required: true })),
    el('button', { type: 'submit', text: t('rep.open') }));
  $('reports').replaceChildren(el('h3', { text: t('rep.costs') }), costForm, rangeForm, monthForm);
}

async function saveCosts(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const answer = await api('/v1/operator/costs', {
    method: 'PUT',
    body: { per_vehicle_hour: Number(form.get('per_vehicle_hour')), per_vehicle_km: Number(form.get('per_vehicle_km')), currency: form.get('currency') },
  });
  if (!answer.ok) {
    fail(answer.body);
    return;
  }
  state.costs = answer.body;
  tell([el('p', { class: 'ok', text: t('rep.saved', { version: answer.body.version }) })]);
}

/** Fetch with the access token; the response, or null after telling what went wrong. */
async function fetchWithKey(url) {
  const response = await fetch(url, { headers: await authHeaders() });
  if (!response.ok) {
    let body = null;
    try { body = await response.json(); } catch { body = { message: response.statusText }; }
    fail(body);
    return null;
  }
  return response;
}

async function download(name) {
  const form = new FormData($('reports-range'));
  state.range = { from: form.get('from'), to: form.get('to'), by: form.get('by') };
  const query = new URLSearchParams({ from: state.range.from, to: state.range.to });
  if (name === 'kpis.csv') query.set('by', state.range.by);
  const response = await fetchWithKey(`${BASE}/${name}?${query}`);
  if (!response) return;
  const file = `rufbus-${name.replace('.csv', '')}-${state.range.from}-${state.range.to}.csv`;
  const link = el('a', { href: URL.createObjectURL(await response.blob()), download: file });
  link.click();
  URL.revokeObjectURL(link.href);
  tell([]);
}

async function openMonthly(event) {
  event.preventDefault();
  state.month = new FormData(event.target).get('month');
  const response = await fetchWithKey(`${BASE}/monthly?${new URLSearchParams({ month: state.month })}`);
  if (!response) return;
  const blob = new Blob([await response.text()], { type: 'text/html' });
  window.open(URL.createObjectURL(blob), '_blank', 'noopener');
  tell([]);
}
