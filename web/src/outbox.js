// The mail panel on /operator (GET /v1/operator/outbox, POST /v1/operator/outbox/{id}/retry): how many of
// the riders' e-mails wait, are being sent, were sent or failed, and the newest failed ones — which
// notice (and why it failed), for which booking, after how many attempts — each with a button to send it again once
// the mail server is mended. The panel loads when opened and again after each retry.

import { api, el, errorText } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';

addStrings({
  de: {
    'out.title': 'E-Mails an Fahrgäste', 'out.pending': 'wartend', 'out.sending': 'in Versand',
    'out.sent': 'versandt', 'out.failed': 'fehlgeschlagen', 'out.none': 'Keine fehlgeschlagene E-Mail.',
    'out.kind': 'Nachricht', 'out.booking': 'Buchung', 'out.error': 'Fehler',
    'out.facts': 'erstellt {created}, Versuche: {attempts}', 'out.retry': 'Erneut senden', 'out.queued': 'E-Mail {id} wird erneut gesendet.',
    'out.reload': 'Aktualisieren',
    'out.kind.booking_confirmed': 'Buchungsbestätigung', 'out.kind.pickup_changed': 'Abholzeit geändert',
    'out.kind.booking_cancelled': 'Absage durch den Betrieb',
  },
  en: {
    'out.title': "E-mails to riders", 'out.pending': 'waiting', 'out.sending': 'being sent',
    'out.sent': 'sent', 'out.failed': 'failed', 'out.none': 'No failed e-mail.',
    'out.kind': 'Message', 'out.booking': 'Booking', 'out.error': 'Error',
    'out.facts': 'created {created}, attempts: {attempts}', 'out.retry': 'Send again', 'out.queued': 'E-mail {id} is being sent again.',
    'out.reload': 'Refresh',
    'out.kind.booking_confirmed': 'Booking confirmation', 'out.kind.pickup_changed': 'Pickup time changed',
    'out.kind.booking_cancelled': 'Cancelled by the service',
  },
});

const STATUSES = ['pending', 'sending', 'sent', 'failed'];
const state = { outbox: null, message: null };

/** Add the mail panel after the booking desk on /operator; it loads when opened. */
export function initOutbox() {
  const box = el('details', { id: 'outbox-box' }, el('summary', { id: 'outbox-title' }),
    el('div', { id: 'outbox' }), el('div', { id: 'outbox-message', role: 'alert' }));
  const after = document.getElementById('desk-box');
  if (after) after.after(box);
  else document.querySelector('main')?.append(box);
  box.addEventListener('toggle', () => { if (box.open) load(); });
  build();
  onLanguage(build);
}

async function load() {
  const answer = await api('/v1/operator/outbox');
  if (answer.ok) state.outbox = answer.body;
  else state.message = { kind: 'error', text: errorText(answer.body) };
  build();
}

async function retry(id) {
  const answer = await api(`/v1/operator/outbox/${id}/retry`, { method: 'POST' });
  state.message = answer.ok ? { kind: 'ok', text: t('out.queued', { id }) } : { kind: 'error', text: errorText(answer.body) };
  await load();
}

function build() {
  document.getElementById('outbox-title').textContent = t('out.title');
  const outbox = state.outbox;
  const parts = [el('button', { type: 'button', class: 'secondary', text: t('out.reload'), onclick: load })];
  if (outbox) {
    parts.unshift(el('dl', { id: 'outbox-counts', class: 'kpis' },
      ...STATUSES.flatMap((status) => [el('dt', { text: t(`out.${status}`) }),
        el('dd', { 'data-status': status, text: String(outbox.counts[status] ?? 0) })])));
    parts.push(outbox.failed.length === 0 ? el('p', { id: 'outbox-none', text: t('out.none') })
      : el('table', { id: 'outbox-failed', class: 'table' },
        el('thead', {}, el('tr', {}, ...['out.kind', 'out.booking', ''].map((key) => el('th', { text: key ? t(key) : '' })))),
        el('tbody', {}, ...outbox.failed.map((message) => el('tr', { 'data-message': String(message.id) },
          el('td', {}, t(`out.kind.${message.kind}`),
            el('small', { class: 'mail-facts', text: t('out.facts', { created: message.created_at.slice(5, 16).replace('T', ' '), attempts: message.attempts }) }),
            el('small', { class: 'mail-error', title: t('out.error'), text: message.last_error ?? '' })),
          el('td', { text: message.booking_id.slice(0, 8), title: message.booking_id }),
          el('td', {}, el('button', { type: 'button', text: t('out.retry'), onclick: () => retry(message.id) })))))));
  }
  document.getElementById('outbox').replaceChildren(...parts);
  const note = state.message;
  document.getElementById('outbox-message').replaceChildren(note ? el('p', { class: note.kind, text: note.text }) : '');
}
