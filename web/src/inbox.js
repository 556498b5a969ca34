// The rider's notices (GET /v1/rider/notices): what the service told them about their bookings — a booking
// confirmed, a pickup time changed (a late bus), a trip cancelled by the service — shown above every tab
// until marked read (POST /v1/rider/notices/{id}/read). New ones also arrive on the followed booking's live
// stream (`{kind: "notice"}`). Texts come from the service in the rider's language (their settings).

import { api, el, errorText } from './api.js';
import { addStrings, t } from './i18n.js';

addStrings({
  de: { 'inbox.read': 'Gelesen', 'inbox.label': 'Mitteilungen' },
  en: { 'inbox.read': 'Mark read', 'inbox.label': 'Notices' },
});

const $ = (id) => document.getElementById(id);
let unread = [];
let say = () => {};

function render() {
  const list = $('inbox');
  list.setAttribute('aria-label', t('inbox.label'));
  list.replaceChildren(...unread.map((notice) => el('li', { class: 'notice', 'data-kind': notice.kind },
    el('div', { class: 'notice-text' }, el('strong', { text: notice.title }), ' ', el('span', { text: notice.text })),
    el('button', { type: 'button', class: 'secondary', text: t('inbox.read'), onclick: () => markRead(notice) }))));
  list.hidden = unread.length === 0;
}

async function markRead(notice) {
  const { ok, body } = await api(`/v1/rider/notices/${encodeURIComponent(notice.id)}/read`, { method: 'POST' });
  if (!ok) {
    say(errorText(body));
    return;
  }
  unread = unread.filter((n) => n.id !== notice.id);
  render();
}

/** Load the rider's unread notices and show them; `report` tells the rider of an error. */
export async function refreshInbox(report = say) {
  say = report;
  const { ok, body } = await api('/v1/rider/notices?unread=true&limit=20');
  if (!ok) return;
  unread = body.items;
  render();
}

/** A notice pushed on a booking's live stream: shown at once (newest first), once. */
export function addNotice(notice) {
  if (notice.read || unread.some((n) => n.id === notice.id)) return;
  unread = [notice, ...unread];
  render();
}

/** Draw again (e.g. in another language: the button; the texts are the service's). */
export const renderInbox = render;
