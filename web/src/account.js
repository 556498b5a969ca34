// The rider's account on the "places & companions" tab: which e-mails they want and in which language
// (GET/PUT /v1/rider/notification-settings; in-app notices are always kept), and their e-mail address —
// on file or not — which they change by proving the new one with the code mailed to it (POST
// /v1/auth/email, then POST /v1/auth/email/verify; the old address is told).

import { api, el, errorText } from './api.js';
import { addStrings, onLanguage, t } from './i18n.js';

addStrings({
  de: {
    'acc.title': 'Konto & Benachrichtigungen', 'acc.hasEmail': 'E-Mail-Adresse: hinterlegt',
    'acc.noEmail': 'E-Mail-Adresse: keine (nur Mitteilungen in der App)', 'acc.newEmail': 'Neue E-Mail-Adresse',
    'acc.sendCode': 'Code senden', 'acc.code': 'Code aus der E-Mail', 'acc.confirm': 'Adresse bestätigen',
    'acc.codeSent': 'Wenn die Adresse verwendet werden kann, ist ein Code an sie unterwegs.',
    'acc.changed': 'Ihre E-Mail-Adresse ist jetzt {email}.', 'acc.language': 'Sprache der Mitteilungen',
    'acc.agency': 'wie der Betrieb', 'acc.mails': 'E-Mails bei', 'acc.mail.booking_confirmed': 'Buchungsbestätigung',
    'acc.mail.pickup_changed': 'geänderter Abholzeit', 'acc.mail.booking_cancelled': 'Absage durch den Betrieb',
    'acc.save': 'Einstellungen speichern', 'acc.saved': 'Gespeichert.',
    'code.invalid_code': 'Der Code ist falsch, schon verwendet oder abgelaufen. Fordern Sie einen neuen an.',
    'code.email_taken': 'Diese Adresse gehört inzwischen zu einem anderen Konto.',
    'code.mail_unavailable': 'Der Rufbus kann gerade keine E-Mails senden.',
  },
  en: {
    'acc.title': 'Account & notifications', 'acc.hasEmail': 'E-mail address: on file',
    'acc.noEmail': 'E-mail address: none (notices in the app only)', 'acc.newEmail': 'New e-mail address',
    'acc.sendCode': 'Send code', 'acc.code': 'Code from the e-mail', 'acc.confirm': 'Confirm address',
    'acc.codeSent': 'If the address can be used, a code is on its way to it.',
    'acc.changed': 'Your e-mail address is now {email}.', 'acc.language': 'Language of notices',
    'acc.agency': "the service's", 'acc.mails': 'E-mails on', 'acc.mail.booking_confirmed': 'booking confirmation',
    'acc.mail.pickup_changed': 'a changed pickup time', 'acc.mail.booking_cancelled': 'cancellation by the service',
    'acc.save': 'Save settings', 'acc.saved': 'Saved.',
    'code.invalid_code': 'The code is wrong, used up or expired. Ask for a new one.',
    'code.email_taken': 'This address belongs to another account now.',
    'code.mail_unavailable': 'The service cannot send e-mails right now.',
  },
});

const KINDS = ['booking_confirmed', 'pickup_changed', 'booking_cancelled'];
const state = { settings: null, pending: null, message: null };

/** Build the account section in ``#account`` and load the rider's settings. */
export async function initAccount() {
  const answer = await api('/v1/rider/notification-settings');
  if (answer.ok) state.settings = answer.body;
  build();
  onLanguage(build);
}

function tell(kind, text) {
  state.message = { kind, text };
  const box = document.getElementById('account-message');
  box.replaceChildren(el('p', { class: kind, text }));
}

function field(label, input) {
  return el('label', {}, el('span', { text: label }), ' ', input);
}

function build() {
  const settings = state.settings;
  const box = document.getElementById('account');
  if (!box) return;
  const parts = [el('h2', { id: 'account-title', text: t('acc.title') })];
  if (settings) {
    parts.push(el('p', { id: 'account-email', text: settings.has_email ? t('acc.hasEmail') : t('acc.noEmail') }));
    parts.push(el('form', { id: 'email-form', class: 'inline-form', novalidate: true, onsubmit: askForCode },
      field(t('acc.newEmail'), el('input', { name: 'email', type: 'email', autocomplete: 'email', required: true, maxlength: '254', value: state.pending ?? '' })),
      el('button', { type: 'submit', class: 'secondary', text: t('acc.sendCode') })));
    if (state.pending) {
      parts.push(el('form', { id: 'email-code-form', class: 'inline-form', novalidate: true, onsubmit: confirmCode },
        field(t('acc.code'), el('input', { name: 'code', inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6', required: true })),
        el('button', { type: 'submit', text: t('acc.confirm') })));
    }
    parts.push(el('form', { id: 'notification-form', class: 'grid-form', novalidate: true, onsubmit: saveSettings },
      field(t('acc.language'), el('select', { name: 'language' },
        ...[['', t('acc.agency')], ['de', 'Deutsch'], ['en', 'English']].map(([value, text]) => el('option', { value, text, selected: (settings.language ?? '') === value })))),
      el('fieldset', {}, el('legend', { text: t('acc.mails') }),
        ...KINDS.map((kind) => el('label', {}, el('input', { type: 'checkbox', name: kind, checked: settings[`email_${kind}`] }), ' ', t(`acc.mail.${kind}`)))),
      el('button', { type: 'submit', text: t('acc.save') })));
  }
  parts.push(el('div', { id: 'account-message', role: 'status', 'aria-live': 'polite' },
    state.message ? el('p', { class: state.message.kind, text: state.message.text }) : ''));
  box.replaceChildren(...parts);
}

async function askForCode(event) {
  event.preventDefault();
  const email = String(new FormData(event.target).get('email')).trim();
  const answer = await api('/v1/auth/email', { method: 'POST', body: { email } });
  if (!answer.ok) {
    tell('error', errorText(answer.body));
    return;
  }
  state.pending = email;
  build();
  tell('ok', t('acc.codeSent'));
  document.querySelector('#email-code-form input')?.focus();
}

async function confirmCode(event) {
  event.preventDefault();
  const code = String(new FormData(event.target).get('code')).trim();
  const answer = await api('/v1/auth/email/verify', { method: 'POST', body: { email: state.pending, code } });
  if (!answer.ok) {
    tell('error', errorText(answer.body));
    return;
  }
  state.pending = null;
  state.settings = { ...state.settings, has_email: true };
  build();
  tell('ok', t('acc.changed', { email: answer.body.email }));
}

async function saveSettings(event) {
  event.preventDefault();
  const form = new FormData(event.target);
  const body = { language: form.get('language') || null };
  for (const kind of KINDS) body[`email_${kind}`] = form.get(kind) === 'on';
  const answer = await api('/v1/rider/notification-settings', { method: 'PUT', body });
  if (!answer.ok) {
    tell('error', errorText(answer.body));
    return;
  }
  state.settings = answer.body;
  build();
  tell('ok', t('acc.saved'));
}
