// The tariff panel on /operator (GET/PUT /v1/operator/tariff): currency and rounding, the scheme of the
// full fare — by distance (base price, price per km, minimum, cap; entered in currency units, sent in
// minor units) or by zones (zones and prices as JSON, see the API docs) — and the concessions in percent
// off per passenger category. Saving adds a version; offers made before keep their fares.

import { api, el, errorText } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';
import { formatPrice } from './price.js';

addStrings({
  de: {
    'tar.title': 'Tarif', 'tar.none': 'Kein Tarif gesetzt: Angebote nennen keinen Preis.',
    'tar.version': 'Version {version}, gültig seit {since}', 'tar.currency': 'Währung',
    'tar.rounding': 'Rundung (Cent/Rappen, leer: kleinste Münze)', 'tar.kind': 'Art',
    'tar.distance': 'nach Strecke', 'tar.zones': 'nach Zonen', 'tar.base': 'Grundpreis',
    'tar.perKm': 'pro km', 'tar.minimum': 'Mindestpreis', 'tar.cap': 'Höchstpreis (leer: keiner)',
    'tar.zoneJson': 'Zonen und Preise (JSON: zones, matrix oder by_count_cents)',
    'tar.concessions': 'Ermäßigung in % (100: frei)', 'tar.save': 'Tarif speichern',
    'tar.saved': 'Gespeichert (Version {version}).', 'tar.badJson': 'Das Zonen-JSON ist ungültig.',
    'tar.example': 'Beispiel 5 km: {amount}',
  },
  en: {
    'tar.title': 'Tariff', 'tar.none': 'No tariff set: offers carry no price.',
    'tar.version': 'Version {version}, valid since {since}', 'tar.currency': 'Currency',
    'tar.rounding': 'Rounding (cents, empty: smallest coin)', 'tar.kind': 'Kind',
    'tar.distance': 'by distance', 'tar.zones': 'by zones', 'tar.base': 'Base price',
    'tar.perKm': 'per km', 'tar.minimum': 'Minimum', 'tar.cap': 'Cap (empty: none)',
    'tar.zoneJson': 'Zones and prices (JSON: zones, matrix or by_count_cents)',
    'tar.concessions': 'Concession in % (100: free)', 'tar.save': 'Save tariff',
    'tar.saved': 'Saved (version {version}).', 'tar.badJson': 'The zone JSON is not valid.',
    'tar.example': 'Example 5 km: {amount}',
  },
});

const CATEGORIES = ['child', 'senior', 'wheelchair', 'companion'];
const state = { tariff: null, version: null, since: null, kind: 'distance', message: null };

/** Add the tariff panel after the reports on /operator and load the tariff in force. */
export async function initTariff() {
  const box = el('details', { id: 'tariff-box' }, el('summary', { id: 'tariff-title' }),
    el('div', { id: 'tariff' }), el('div', { id: 'tariff-message', role: 'alert' }));
  const after = document.getElementById('reports-box');
  if (after) after.after(box);
  else document.querySelector('main')?.append(box);
  const answer = await api('/v1/operator/tariff');
  if (answer.ok) keep(answer.body);
  build();
  onLanguage(build);
}

function keep(body) {
  state.tariff = body.tariff;
  state.version = body.version;
  state.since = body.valid_from;
  state.kind = body.tariff?.scheme.kind ?? 'distance';
}

const money = (cents) => (cents === null || cents === undefined ? '' : (cents / 100).toFixed(2));
/** Currency units typed in (e.g. "2.50") as minor units; null for an empty field. */
const cents = (text) => (String(text).trim() === '' ? null : Math.round(Number(String(text).replace(',', '.')) * 100));

function field(label, input) {
  return el('label', {}, el('span', { text: label }), ' ', input);
}

function build() {
  document.getElementById('tariff-title').textContent = t('tar.title');
  const tariff = state.tariff;
  const scheme = tariff?.scheme ?? { kind: 'distance', base_cents: 0, per_km_cents: 0, minimum_cents: 0, cap_cents: null };
  const distance = scheme.kind === 'distance' ? scheme : { base_cents: 0, per_km_cents: 0, minimum_cents: 0, cap_cents: null };
  const zones = scheme.kind === 'zones' ? { zones: scheme.zones, matrix: scheme.matrix, by_count_cents: scheme.by_count_cents } : { zones: [], matrix: null, by_count_cents: [] };
  const currency = tariff?.currency ?? 'EUR';
  const kind = el('select', { name: 'kind', onchange: (event) => { state.kind = event.target.value; showKind(); } },
    ...['distance', 'zones'].map((k) => el('option', { value: k, text: t(`tar.${k}`), selected: k === state.kind })));
  const number = (name, value, step = '0.01') => el('input', { name, type: 'number', min: '0', step, value, inputmode: 'decimal' });
  const form = el('form', { id: 'tariff-form', class: 'grid-form', novalidate: true, onsubmit: save },
    field(t('tar.currency'), el('select', { name: 'currency' }, ...['EUR', 'CHF'].map((code) => el('option', { value: code, text: code, selected: code === currency })))),
    field(t('tar.rounding'), number('rounding_cents', tariff?.rounding_cents ?? '', '1')),
    field(t('tar.kind'), kind),
    el('fieldset', { id: 'tariff-distance' },
      field(t('tar.base'), number('base', money(distance.base_cents))),
      field(t('tar.perKm'), number('per_km', money(distance.per_km_cents))),
      field(t('tar.minimum'), number('minimum', money(distance.minimum_cents))),
      field(t('tar.cap'), number('cap', money(distance.cap_cents)))),
    el('fieldset', { id: 'tariff-zones' },
      field(t('tar.zoneJson'), el('textarea', { name: 'zones', rows: '6', cols: '60', text: JSON.stringify(zones, null, 1) }))),
    el('fieldset', {}, el('legend', { text: t('tar.concessions') }),
      ...CATEGORIES.map((category) => field(t(`fare.cat.${category}`), number(`off_${category}`, String(tariff?.concessions?.[category] ?? 0), '1')))),
    el('button', { type: 'submit', text: t('tar.save') }));
  const status = state.version === null ? t('tar.none')
    : t('tar.version', { version: state.version, since: state.since.slice(0, 16).replace('T', ' ') });
  const example = distance && scheme.kind === 'distance' && tariff
    ? el('p', { class: 'hint', text: t('tar.example', { amount: formatPrice(Math.max(distance.minimum_cents, distance.base_cents + 5 * distance.per_km_cents), currency) }) })
    : null;
  document.getElementById('tariff').replaceChildren(el('p', { id: 'tariff-status', text: status }), form, example ?? '');
  showKind();
}

function showKind() {
  document.getElementById('tariff-distance').hidden = state.kind !== 'distance';
  document.getElementById('tariff-zones').hidden = state.kind !== 'zones';
}

function tell(text, kind) {
  document.getElementById('tariff-message').replaceChildren(text ? el('p', { class: kind, text }) : '');
}

async function save(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  let scheme;
  if (state.kind === 'distance') {
    scheme = { kind: 'distance', base_cents: cents(form.get('base')) ?? 0, per_km_cents: cents(form.get('per_km')) ?? 0,
      minimum_cents: cents(form.get('minimum')) ?? 0, cap_cents: cents(form.get('cap')) };
  } else {
    try {
      scheme = { kind: 'zones', ...JSON.parse(form.get('zones')) };
    } catch {
      tell(t('tar.badJson'), 'error');
      return;
    }
    if (!scheme.matrix) delete scheme.matrix;
    if (!scheme.by_count_cents || scheme.matrix) delete scheme.by_count_cents;
  }
  const rounding = String(form.get('rounding_cents')).trim();
  const concessions = Object.fromEntries(CATEGORIES.map((c) => [c, Number(form.get(`off_${c}`)) || 0]).filter(([, off]) => off));
  const answer = await api('/v1/operator/tariff', { method: 'PUT', body: {
    currency: form.get('currency'), rounding_cents: rounding === '' ? null : Number(rounding), scheme, concessions } });
  if (!answer.ok) {
    tell(t('op.error', { message: errorText(answer.body) }), 'error');
    return;
  }
  keep(answer.body);
  build();
  tell(t('tar.saved', { version: answer.body.version }), 'ok');
}
