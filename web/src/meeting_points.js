// The operators' meeting points (virtual stops) on /operator: every point on the map (GET
// /v1/operator/meeting-points: OSM stops blue, generated grey, the operator's own green, inactive ones
// hollow), a popup per point to move it (the next click on the map) or (de)activate it (PATCH), a form to
// add one (a name, then a click on the map; POST), and GeoJSON export and import (…/export, …/import).

import { api, authHeaders, el, errorText } from './api.js';
import { t } from './i18n.js';
import { L } from './map.js';

const BASE = '/v1/operator/meeting-points';
const COLORS = { osm: '#1d5fa8', generated: '#6b6b6b', operator: '#2e8b57' };
const state = { map: null, layer: null, features: [], pending: null };

const $ = (id) => document.getElementById(id);

function tell(parts) {
  $('meeting-points-message').replaceChildren(...parts);
}

function problemsOf(body) {
  const detail = Array.isArray(body?.detail) ? body.detail : [errorText(body)];
  return el('ul', { class: 'error' }, ...detail.map((item) => el('li', {
    text: typeof item === 'string' ? item : `${(item.loc ?? []).join('.')}: ${item.msg}`,
  })));
}

/** Load the points and draw them on `map`; the map's clicks place a point being added or moved. */
export async function loadMeetingPoints(map) {
  if (map && !state.map) {
    state.map = map;
    map.on('click', (event) => placePending(event.latlng));
    $('meeting-point-form').addEventListener('submit', startAdding);
    $('meeting-points-export').addEventListener('click', exportPoints);
    $('meeting-points-import').addEventListener('change', importPoints);
  }
  const answer = await api(BASE);
  if (!answer.ok) {
    tell([el('p', { class: 'error', text: t('op.error', { message: errorText(answer.body) }) })]);
    return;
  }
  state.features = answer.body.features;
  render();
}

function render() {
  const count = (source) => state.features.filter((f) => f.properties.source === source).length;
  const summary = $('meeting-points-summary');
  summary.textContent = t('mp.summary', {
    n: state.features.length, active: state.features.filter((f) => f.properties.active).length,
    osm: count('osm'), generated: count('generated'), operator: count('operator'),
  });
  summary.dataset.count = String(state.features.length);
  if (!state.map) return;
  if (state.layer) state.layer.remove();
  state.layer = L.layerGroup(state.features.map(marker)).addTo(state.map);
  $('map').meetingPoints = state.layer; // for tests and the browser console
}

function marker(feature) {
  const [lon, lat] = feature.geometry.coordinates;
  const { id, name, source, active } = feature.properties;
  const color = COLORS[source] ?? COLORS.generated;
  const point = L.circleMarker([lat, lon], {
    radius: 5, color, weight: 2, fillColor: color, fillOpacity: active ? 0.9 : 0, meetingPoint: id,
  });
  point.bindTooltip(`${name} (${t(`mp.source.${source}`)}${active ? '' : `, ${t('mp.inactive')}`})`);
  point.bindPopup(() => el('div', { class: 'meeting-point', 'data-meeting-point': id },
    el('strong', { text: name }), el('br'),
    el('button', { type: 'button', class: 'secondary', text: t('mp.move'), onclick: () => startMoving(feature) }), ' ',
    el('button', {
      type: 'button', class: active ? 'danger' : 'secondary', text: t(active ? 'mp.deactivate' : 'mp.activate'),
      onclick: () => change(id, { active: !active }),
    })));
  point.on('click', (event) => { // a point being placed may land on another one: place it, no popup
    if (!state.pending) return;
    point.closePopup();
    placePending(event.latlng);
  });
  return point;
}

function startAdding(event) {
  event.preventDefault();
  const name = new FormData($('meeting-point-form')).get('name').trim();
  if (!name) return;
  state.pending = { kind: 'add', name };
  tell([el('p', { text: t('mp.addHint') })]);
}

function startMoving(feature) {
  state.map.closePopup();
  state.pending = { kind: 'move', id: feature.properties.id, name: feature.properties.name };
  tell([el('p', { text: t('mp.moveHint', { name: feature.properties.name }) })]);
}

async function placePending(latlng) {
  const pending = state.pending;
  if (!pending) return;
  state.pending = null;
  const position = { lat: latlng.lat, lon: latlng.lng };
  if (pending.kind === 'add') {
    const answer = await api(BASE, { method: 'POST', body: { name: pending.name, ...position } });
    report(answer, pending.name);
    if (answer.ok) $('meeting-point-form').reset();
  } else await change(pending.id, position, pending.name);
}

async function change(id, body, name = id) {
  state.map?.closePopup();
  report(await api(`${BASE}/${encodeURIComponent(id)}`, { method: 'PATCH', body }), name);
}

function report(answer, name) {
  tell(answer.ok ? [el('p', { class: 'ok', text: t('mp.saved', { name: answer.body.name ?? name }) })]
    : [el('p', { class: 'error', text: t('mp.invalid') }), problemsOf(answer.body)]);
  if (answer.ok) loadMeetingPoints();
}

/** The export needs the access token, so it is fetched here and saved from a blob URL. */
async function exportPoints() {
  const response = await fetch(`${BASE}/export`, { headers: await authHeaders() });
  const link = el('a', { href: URL.createObjectURL(await response.blob()), download: 'meeting-points.geojson' });
  link.click();
  URL.revokeObjectURL(link.href);
}

async function importPoints(event) {
  const file = event.target.files[0];
  if (!file) return;
  let body;
  try {
    body = JSON.parse(await file.text());
  } catch {
    tell([el('p', { class: 'error', text: t('mp.invalid') }), problemsOf({ detail: ['not JSON'] })]);
    return;
  }
  const answer = await api(`${BASE}/import`, { method: 'POST', body });
  event.target.value = '';
  tell(answer.ok ? [el('p', { class: 'ok', text: t('mp.imported', answer.body) })]
    : [el('p', { class: 'error', text: t('mp.invalid') }), problemsOf(answer.body)]);
  if (answer.ok) loadMeetingPoints();
}
