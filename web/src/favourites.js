// The rider's favourite places and companions, kept by the service (/v1/rider/favourites,
// /v1/rider/companions): listed, added and removed on the "places & companions" tab. Favourite places
// head the place lists of the booking and recurring forms; companions ticked on the booking form set its
// seats (a wheelchair user takes a wheelchair space, everybody else a seat, the rider one seat).

import { api, el, errorText } from './api.js';
import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);
export const CATEGORIES = ['adult', 'child', 'senior', 'wheelchair', 'companion'];

const state = { favourites: [], companions: [] };
let hooks = { places: () => [], ends: () => ({}), changed: () => {}, say: () => {} };

/** The favourite places as entries of a place list (group "favourites"). */
export function favouritePlaces() {
  return state.favourites.map((f) => ({ name: f.name, lat: f.lat, lon: f.lon, group: 'favourites', favourite: f.id }));
}

/** Seats and wheelchair spaces for the rider with the companions ticked on the booking form. */
export function seatsWithCompanions() {
  const ticked = [...document.querySelectorAll('#companions-ticked input:checked')]
    .map((box) => state.companions.find((c) => String(c.id) === box.value)).filter(Boolean);
  const wheelchairs = ticked.filter((c) => c.category === 'wheelchair').length;
  return { seats: 1 + ticked.length - wheelchairs, wheelchairs, any: ticked.length > 0 };
}

function say(text) {
  $('profile-message').textContent = text;
}

async function load() {
  const [favourites, companions] = await Promise.all([api('/v1/rider/favourites'), api('/v1/rider/companions')]);
  if (favourites.ok) state.favourites = favourites.body;
  if (companions.ok) state.companions = companions.body;
}

function renderFavourites() {
  $('favourites-list').replaceChildren(...(state.favourites.length ? state.favourites.map((f) => el('li', { 'data-favourite': f.id },
    el('span', { text: f.name }),
    el('button', { type: 'button', class: 'secondary', text: '✕', 'aria-label': t('fav.remove', { name: f.name }),
      onclick: () => remove(`/v1/rider/favourites/${f.id}`) })))
    : [el('li', { class: 'hint', text: t('fav.none') })]));
  const ends = hooks.ends();
  const options = [];
  if (ends.from) options.push(el('option', { value: 'from', text: t('fav.currentFrom') + (ends.from.name ? ` (${ends.from.name})` : '') }));
  if (ends.to) options.push(el('option', { value: 'to', text: t('fav.currentTo') + (ends.to.name ? ` (${ends.to.name})` : '') }));
  hooks.places().forEach((p, index) => {
    if (p.group !== 'favourites') options.push(el('option', { value: String(index), text: p.name }));
  });
  $('favourite-place').replaceChildren(...options);
}

function renderCompanions() {
  $('companions-list').replaceChildren(...(state.companions.length ? state.companions.map((c) => el('li', { 'data-companion': c.id },
    el('span', { text: `${c.name} (${t(`cat.${c.category}`)})` }),
    el('button', { type: 'button', class: 'secondary', text: '✕', 'aria-label': t('comp.remove', { name: c.name }),
      onclick: () => remove(`/v1/rider/companions/${c.id}`) })))
    : [el('li', { class: 'hint', text: t('comp.none') })]));
  $('companion-category').replaceChildren(...CATEGORIES.map((c) => el('option', { value: c, text: t(`cat.${c}`) })));
  const ticked = new Set([...document.querySelectorAll('#companions-ticked input:checked')].map((box) => box.value));
  $('companions-ticked').hidden = state.companions.length === 0;
  $('companions-boxes').replaceChildren(...state.companions.map((c) => el('label', {},
    el('input', { type: 'checkbox', value: String(c.id), checked: ticked.has(String(c.id)),
      onchange: () => hooks.changed('companions') }),
    ` ${c.name} (${t(`cat.${c.category}`)})`)));
}

/** Draw both lists and the companions on the booking form. */
export function renderProfile() {
  renderFavourites();
  renderCompanions();
}

async function remove(path) {
  const answer = await api(path, { method: 'DELETE' });
  if (!answer.ok) say(t('rider.invalid', { message: errorText(answer.body) }));
  await refreshProfile();
}

async function addFavourite(event) {
  event.preventDefault();
  const choice = $('favourite-place').value;
  const ends = hooks.ends();
  const point = choice === 'from' || choice === 'to' ? ends[choice] : hooks.places()[Number(choice)];
  if (!point) return;
  const answer = await api('/v1/rider/favourites', { method: 'POST',
    body: { name: $('favourite-name').value, lat: point.lat, lon: point.lon } });
  if (!answer.ok) {
    say(t('rider.invalid', { message: errorText(answer.body) }));
    return;
  }
  say('');
  $('favourite-name').value = '';
  await refreshProfile();
}

async function addCompanion(event) {
  event.preventDefault();
  const answer = await api('/v1/rider/companions', { method: 'POST',
    body: { name: $('companion-name').value, category: $('companion-category').value } });
  if (!answer.ok) {
    say(t('rider.invalid', { message: errorText(answer.body) }));
    return;
  }
  say('');
  $('companion-name').value = '';
  await refreshProfile();
}

/** Load both lists again and redraw; tells `changed('favourites')` so place lists are redrawn. */
export async function refreshProfile() {
  await load();
  renderProfile();
  hooks.changed('favourites');
}

/** Wire the forms. `places()`: the place list; `ends()`: the booking form's chosen ends; `changed(what)`:
 * favourites or ticked companions changed. */
export function initProfile(given) {
  hooks = given;
  $('favourite-form').addEventListener('submit', addFavourite);
  $('companion-form').addEventListener('submit', addCompanion);
}
