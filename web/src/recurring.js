// Recurring trips (/v1/rider/recurring-trips): a weekly pattern the service books ahead for the rider, day
// by day as each comes into the booking horizon. The tab lists the patterns with how each day went
// (booked, not booked with the reason, no service), pauses, resumes and deletes them, and creates new
// ones; a day that could not be booked is also shown as a notice above every tab until dismissed.

import { api, el, errorText } from './api.js';
import { t } from './i18n.js';
import { dayText } from './rider_strings.js';

const $ = (id) => document.getElementById(id);
const DISMISSED = 'rufbus.dismissed';
const WEEKDAYS = [0, 1, 2, 3, 4, 5, 6];

let trips = [];
let hooks = { places: () => [], me: null };

function say(text) {
  $('recurring-message').textContent = text;
}

function dismissed() {
  try {
    return new Set(JSON.parse(localStorage.getItem(DISMISSED) || '[]'));
  } catch {
    return new Set();
  }
}

function reason(occurrence) {
  return errorText({ code: occurrence.cause, message: occurrence.message });
}

function summary(trip) {
  return t('rec.summary', {
    days: trip.weekdays.map((d) => t(`day.${d}`)).join(', '),
    type: t(trip.time_type === 'arrive_by' ? 'rider.arriveBy' : 'rider.leaveAfter'), time: trip.time,
    from: trip.origin_name || `${trip.origin.lat.toFixed(4)}, ${trip.origin.lon.toFixed(4)}`,
    to: trip.destination_name || `${trip.destination.lat.toFixed(4)}, ${trip.destination.lon.toFixed(4)}`,
    seats: trip.seats, wheelchairs: trip.wheelchairs ? t('rec.wheelchairs', { count: trip.wheelchairs }) : '',
  });
}

function item(trip) {
  return el('li', { class: `recurring${trip.active ? '' : ' paused'}`, 'data-recurring': trip.id },
    el('strong', { text: (trip.name || t('rec.unnamed')) + (trip.active ? '' : ` (${t('rec.paused')})`) }),
    el('span', { text: summary(trip) }),
    el('span', { class: 'hint', text: t('rec.period', { from: dayText(trip.first_day), until: dayText(trip.last_day) }) }),
    el('ul', { class: 'occurrences' }, ...trip.occurrences.map((o) => el('li', {
      class: `occurrence ${o.outcome}`, 'data-day': o.day, 'data-outcome': o.outcome,
      text: t(`rec.outcome.${o.outcome}`, { day: dayText(o.day), reason: reason(o) }) }))),
    el('span', { class: 'row-actions' },
      el('button', { type: 'button', class: 'secondary', text: t(trip.active ? 'rec.pause' : 'rec.resume'),
        onclick: () => setActive(trip, !trip.active) }),
      el('button', { type: 'button', class: 'danger', text: t('rec.remove'), onclick: () => remove(trip) })));
}

/** Refused days from today on that the rider has not dismissed, as notices above every tab. */
function renderNotices() {
  const today = hooks.me ? hooks.me.now.slice(0, 10) : '';
  const gone = dismissed();
  const notices = [];
  for (const trip of trips) {
    for (const o of trip.occurrences) {
      const key = `${trip.id}:${o.day}`;
      if (o.outcome !== 'refused' || o.day < today || gone.has(key)) continue;
      notices.push(el('li', { class: 'notice', 'data-notice': key },
        el('span', { text: t('rec.notice', { name: trip.name || t('rec.unnamed'), day: dayText(o.day), reason: reason(o) }) }),
        el('button', { type: 'button', class: 'secondary', text: t('rec.dismiss'), onclick: () => {
          localStorage.setItem(DISMISSED, JSON.stringify([...dismissed(), key]));
          renderNotices();
        } })));
    }
  }
  $('notices').replaceChildren(...notices);
  $('notices').hidden = notices.length === 0;
}

function renderPlaces() {
  for (const id of ['rec-from', 'rec-to']) {
    const select = $(id);
    const chosen = select.value;
    select.replaceChildren(el('option', { value: '', text: t('rider.choosePlace') }),
      ...hooks.places().map((p, index) => el('option', { value: String(index), text: p.name })));
    if (chosen && select.querySelector(`option[value="${chosen}"]`)) select.value = chosen;
  }
}

/** Draw the list, the notices and the form's place lists (again, e.g. in another language). */
export function renderRecurring() {
  $('recurring-list').replaceChildren(...(trips.length ? trips.map(item) : [el('li', { class: 'hint', text: t('rec.none') })]));
  $('rec-days').replaceChildren(...WEEKDAYS.map((d) => el('label', {},
    el('input', { type: 'checkbox', name: 'weekday', value: String(d), checked: $('rec-days').dataset[`d${d}`] === 'true',
      onchange: (event) => { $('rec-days').dataset[`d${d}`] = String(event.target.checked); } }),
    ` ${t(`day.${d}`)}`)));
  renderPlaces();
  renderNotices();
}

/** Load the patterns again and redraw. */
export async function refreshRecurring() {
  const answer = await api('/v1/rider/recurring-trips');
  if (answer.ok) trips = answer.body;
  renderRecurring();
}

async function setActive(trip, active) {
  const body = { ...trip, active };
  delete body.id;
  delete body.occurrences;
  const answer = await api(`/v1/rider/recurring-trips/${trip.id}`, { method: 'PUT', body });
  if (!answer.ok) say(t('rider.invalid', { message: errorText(answer.body) }));
  await refreshRecurring();
}

async function remove(trip) {
  const answer = await api(`/v1/rider/recurring-trips/${trip.id}`, { method: 'DELETE' });
  if (!answer.ok) say(t('rider.invalid', { message: errorText(answer.body) }));
  await refreshRecurring();
}

async function create(event) {
  event.preventDefault();
  const places = hooks.places();
  const from = places[Number($('rec-from').value)];
  const to = places[Number($('rec-to').value)];
  const weekdays = [...document.querySelectorAll('#rec-days input:checked')].map((box) => Number(box.value));
  if (!$('rec-from').value || !$('rec-to').value || !from || !to) {
    say(t('rider.missing'));
    return;
  }
  if (!weekdays.length) {
    say(t('rec.noDays'));
    return;
  }
  const answer = await api('/v1/rider/recurring-trips', { method: 'POST', body: {
    name: $('rec-name').value, origin: { lat: from.lat, lon: from.lon }, origin_name: from.name,
    destination: { lat: to.lat, lon: to.lon }, destination_name: to.name, weekdays,
    time_type: document.querySelector('input[name="rec-time-type"]:checked').value, time: $('rec-time').value,
    seats: Number($('rec-seats').value) || 1, wheelchairs: Number($('rec-wheelchairs').value) || 0,
    first_day: $('rec-first').value, last_day: $('rec-last').value,
  } });
  if (!answer.ok) {
    say(t('rider.invalid', { message: errorText(answer.body) }));
    return;
  }
  say(t('rec.saved'));
  for (let d = 0; d < 7; d += 1) delete $('rec-days').dataset[`d${d}`];
  $('recurring-form').reset();
  defaults();
  await refreshRecurring();
}

function defaults() {
  const today = hooks.me.now.slice(0, 10);
  const until = new Date(`${today}T12:00:00Z`);
  until.setUTCDate(until.getUTCDate() + 90);
  $('rec-first').value = today;
  $('rec-last').value = until.toISOString().slice(0, 10);
  $('rec-time').value = '08:00';
}

/** Wire the form; `places()` gives the place list (favourites first), `me` the signed-in rider. */
export function initRecurring(given) {
  hooks = given;
  defaults();
  $('recurring-form').addEventListener('submit', create);
}
