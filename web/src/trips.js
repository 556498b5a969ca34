// "My trips": the rider's bookings (GET /v1/bookings), upcoming (booked or on board) and past, with their
// status; an upcoming booking can be cancelled (DELETE /v1/bookings/{id}) or followed on the map.

import { api, el, errorText, hhmm } from './api.js';
import { t } from './i18n.js';
import { dayText } from './rider_strings.js';

const $ = (id) => document.getElementById(id);
const UPCOMING = new Set(['booked', 'picked_up']);
const PAGE = 100;

let bookings = [];
let hooks = { follow: () => {}, say: () => {} };

/** The rider's bookings, newest first (the first pages, up to 300). */
async function load() {
  const items = [];
  for (let offset = 0; offset !== null && items.length < 3 * PAGE;) {
    const answer = await api(`/v1/bookings?limit=${PAGE}&offset=${offset}`);
    if (!answer.ok) return { ok: false, body: answer.body };
    items.push(...answer.body.items);
    offset = answer.body.next_offset;
  }
  return { ok: true, items };
}

function place(point) {
  return point ? point.street || t('rider.unnamedRoad') : '–';
}

function item(booking) {
  const start = booking.pickup_window.start;
  const upcoming = UPCOMING.has(booking.status);
  return el('li', { class: `trip ${booking.status}`, 'data-booking': booking.id },
    el('strong', { text: t('trips.when', { day: dayText(start), start: hhmm(start), end: hhmm(booking.pickup_window.end) }) }),
    el('span', { text: t('trips.route', { from: place(booking.pickup_meeting_point || booking.pickup), to: place(booking.dropoff_meeting_point || booking.dropoff) }) }),
    el('span', { class: 'trip-status', 'data-status': booking.status, text: t('rider.status', { status: t(`status.${booking.status}`) }) }),
    upcoming ? el('span', { class: 'row-actions' },
      el('button', { type: 'button', class: 'secondary', text: t('trips.follow'), onclick: () => hooks.follow(booking) }),
      booking.status === 'booked'
        ? el('button', { type: 'button', class: 'danger', text: t('trips.cancel'), onclick: () => cancel(booking) }) : null)
      : null);
}

function render() {
  const list = (id, rows) => {
    $(id).replaceChildren(...(rows.length ? rows.map(item) : [el('li', { class: 'hint', text: t('trips.none') })]));
  };
  const upcoming = bookings.filter((b) => UPCOMING.has(b.status))
    .sort((a, b) => a.pickup_window.start.localeCompare(b.pickup_window.start));
  list('trips-upcoming', upcoming);
  list('trips-past', bookings.filter((b) => !UPCOMING.has(b.status)));
}

async function cancel(booking) {
  const answer = await api(`/v1/bookings/${encodeURIComponent(booking.id)}`, { method: 'DELETE' });
  if (answer.ok) {
    hooks.say(t('trips.cancelled', { day: dayText(booking.pickup_window.start) }));
    await refreshTrips();
  } else hooks.say(t('rider.invalid', { message: errorText(answer.body) }));
}

/** Load and show the rider's trips again. */
export async function refreshTrips() {
  const answer = await load();
  if (!answer.ok) {
    hooks.say(errorText(answer.body));
    return;
  }
  bookings = answer.items;
  render();
}

/** Wire the list: `follow(booking)` shows a booking on the booking page, `say(text)` tells the rider. */
export function initTrips(given) {
  hooks = given;
}

/** Redraw in the language chosen. */
export function renderTrips() {
  render();
}
