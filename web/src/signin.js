// Signing in, the same on the riders', drivers' and operators' pages: e-mail address → a six-digit code
// mailed to it → a session (web/src/api.js keeps its tokens). Riders may sign up (name, address, phone
// optional). A driver's tablet may sign in once with its device key, which is exchanged for a session
// and not kept. Drivers' and operators' addresses are set by an operator (`rufbus user email`).

import { api, el, forgetSession, hasSession, keepTokens, onSignedOut, signOut } from './api.js';
import { addStrings, languageSwitch, t, translate } from './i18n.js';

addStrings({
  de: {
    'signin.email': 'E-Mail-Adresse',
    'signin.sendCode': 'Code senden',
    'signin.codeSent': 'Wenn die Adresse verwendet werden kann, ist ein Code dorthin unterwegs. Er gilt 10 Minuten.',
    'signin.code': 'Code aus der E-Mail (6 Ziffern)',
    'signin.submit': 'Anmelden',
    'signin.otherAddress': 'Andere Adresse',
    'signin.badCode': 'Der Code stimmt nicht oder ist abgelaufen. Bitte neuen Code anfordern.',
    'signin.tooMany': 'Zu viele Versuche. Bitte später erneut versuchen.',
    'signin.noMail': 'Anmelden per E-Mail ist auf diesem Server nicht eingerichtet.',
    'signin.new': 'Neu hier? Registrieren',
    'signin.signUp': 'Registrieren',
    'signin.name': 'Name',
    'signin.phone': 'Telefon (freiwillig)',
    'signin.back': 'Zurück zur Anmeldung',
    'signin.device': 'Mit Geräteschlüssel anmelden',
    'signin.key': 'API-Schlüssel',
    'signin.keyHint': 'Für Fahrzeug-Tablets: den Schlüssel gibt die Leitstelle aus; er wird nicht gespeichert.',
    'signin.badKey': 'Dieser Schlüssel ist unbekannt, abgelaufen oder gesperrt.',
    'signin.ended': 'Sie wurden abgemeldet.',
    'signin.invalid': 'Bitte die Eingaben prüfen.',
  },
  en: {
    'signin.email': 'E-mail address',
    'signin.sendCode': 'Send code',
    'signin.codeSent': 'If the address can be used, a code is on its way to it. It is valid for 10 minutes.',
    'signin.code': 'Code from the e-mail (6 digits)',
    'signin.submit': 'Sign in',
    'signin.otherAddress': 'Another address',
    'signin.badCode': 'The code is wrong or has expired. Please ask for a new one.',
    'signin.tooMany': 'Too many attempts. Please try again later.',
    'signin.noMail': 'Signing in by e-mail is not set up on this server.',
    'signin.new': 'New here? Sign up',
    'signin.signUp': 'Sign up',
    'signin.name': 'Name',
    'signin.phone': 'Phone (optional)',
    'signin.back': 'Back to sign-in',
    'signin.device': 'Sign in with a device key',
    'signin.key': 'API key',
    'signin.keyHint': 'For bus tablets: the control room issues the key; it is not stored.',
    'signin.badKey': 'This key is unknown, expired or blocked.',
    'signin.ended': 'You have been signed out.',
    'signin.invalid': 'Please check what you entered.',
  },
});

const field = (id, key, attrs) => [el('label', { for: id, 'data-i18n': key }), el('input', { id, name: id, required: true, ...attrs })];
const button = (key, attrs = {}) => el('button', { type: 'submit', 'data-i18n': key, ...attrs });

/** The text for a failed answer of the code endpoints. */
function failure(answer, otherwise) {
  if (answer.status === 0) return t('net.error');
  if (answer.status === 429) return t('signin.tooMany');
  if (answer.status === 503) return t('signin.noMail');
  if (answer.status === 422) return t('signin.invalid');
  return t(otherwise);
}

/** Build the sign-in forms inside `root` (the page's #login section); `done()` once signed in. */
function renderForms(root, role, message, done) {
  const emailForm = el('form', { id: 'signin-email-form' },
    ...field('signin-email', 'signin.email', { type: 'email', autocomplete: 'email' }),
    button('signin.sendCode'));
  const codeForm = el('form', { id: 'signin-code-form', hidden: true },
    el('p', { class: 'hint', 'data-i18n': 'signin.codeSent' }),
    ...field('signin-code', 'signin.code', { inputmode: 'numeric', autocomplete: 'one-time-code', pattern: '[0-9]{6}', maxlength: '6' }),
    button('signin.submit'),
    el('button', { type: 'button', class: 'secondary', id: 'signin-other', 'data-i18n': 'signin.otherAddress' }));
  const signUpForm = el('form', { id: 'signin-signup-form', hidden: true },
    el('h3', { 'data-i18n': 'signin.signUp' }),
    ...field('signup-name', 'signin.name', { autocomplete: 'name', maxlength: '120' }),
    ...field('signup-email', 'signin.email', { type: 'email', autocomplete: 'email' }),
    el('label', { for: 'signup-phone', 'data-i18n': 'signin.phone' }),
    el('input', { id: 'signup-phone', name: 'signup-phone', type: 'tel', autocomplete: 'tel' }),
    button('signin.signUp'),
    el('button', { type: 'button', class: 'secondary', id: 'signin-back', 'data-i18n': 'signin.back' }));
  const newHere = role === 'rider' ? el('button', { type: 'button', class: 'secondary', id: 'signin-new', 'data-i18n': 'signin.new' }) : null;
  const deviceForm = el('form', { id: 'signin-device-form' },
    ...field('signin-key', 'signin.key', { type: 'password', autocomplete: 'off' }),
    el('p', { class: 'hint', 'data-i18n': 'signin.keyHint' }),
    button('signin.submit'));
  const device = el('details', { id: 'signin-device' }, el('summary', { 'data-i18n': 'signin.device' }), deviceForm);
  root.replaceChildren(el('h2', { 'data-i18n': 'login.title' }), emailForm, codeForm, signUpForm, newHere, device, message);
  translate(root);

  let email = '';
  const show = (form) => {
    for (const each of [emailForm, codeForm, signUpForm]) each.hidden = each !== form;
    if (newHere) newHere.hidden = form === signUpForm;
    form.querySelector('input').focus();
  };
  const askCode = async (path, body) => {
    const answer = await api(path, { method: 'POST', body });
    if (!answer.ok) {
      message.textContent = failure(answer, 'signin.invalid');
      return;
    }
    email = body.email;
    message.textContent = '';
    show(codeForm);
  };
  emailForm.addEventListener('submit', (event) => {
    event.preventDefault();
    askCode('/v1/auth/code', { email: emailForm.querySelector('input').value.trim() });
  });
  signUpForm.addEventListener('submit', (event) => {
    event.preventDefault();
    const phone = document.getElementById('signup-phone').value.trim();
    askCode('/v1/auth/sign-up', { name: document.getElementById('signup-name').value.trim(),
      email: document.getElementById('signup-email').value.trim(), ...(phone ? { phone } : {}) });
  });
  codeForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const code = document.getElementById('signin-code').value.trim();
    const answer = await api('/v1/auth/verify', { method: 'POST', body: { email, code } });
    if (!answer.ok) {
      message.textContent = failure(answer, 'signin.badCode');
      return;
    }
    keepTokens(answer.body);
    done();
  });
  deviceForm.addEventListener('submit', async (event) => {
    event.preventDefault();
    const input = document.getElementById('signin-key');
    const answer = await api('/v1/auth/device', { method: 'POST', body: { api_key: input.value.trim() } });
    input.value = ''; // the key is exchanged, never kept
    if (!answer.ok) {
      message.textContent = failure(answer, 'signin.badKey');
      return;
    }
    keepTokens(answer.body);
    done();
  });
  document.getElementById('signin-other').addEventListener('click', () => show(emailForm));
  document.getElementById('signin-back').addEventListener('click', () => show(emailForm));
  if (newHere) newHere.addEventListener('click', () => show(signUpForm));
  return () => show(emailForm);
}

/**
 * The sign-in flow every page shares: translate the page, wire the language switch and sign-out, and
 * resolve with the user (GET /v1/me) once a session of `role` is held. The forms stay until then. When
 * the session ends later (signed out, revoked by an operator), the page reloads to the forms.
 */
export function signIn(role) {
  translate();
  const select = document.getElementById('lang');
  if (select) languageSwitch(select);
  const root = document.getElementById('login');
  const logout = document.getElementById('logout');
  const message = el('p', { id: 'login-message', role: 'alert' });
  logout.addEventListener('click', async () => {
    await signOut();
    location.reload();
  });
  return new Promise((resolve) => {
    let signedIn = false;
    onSignedOut(() => {
      if (!signedIn) return;
      sessionStorage.setItem('rufbus.ended', '1');
      location.reload();
    });
    const check = async () => {
      const me = await api('/v1/me');
      if (me.ok && me.body.role === role) {
        signedIn = true;
        root.hidden = true;
        logout.hidden = false;
        document.body.classList.add('signed-in');
        resolve(me.body);
        return;
      }
      if (me.status === 0) message.textContent = t('net.error');
      else if (me.ok) {
        message.textContent = t('login.wrongRole', { role: me.body.role, wanted: t(`role.${role}`) });
        logout.hidden = false;
      } else forgetSession();
      root.hidden = false;
    };
    const first = renderForms(root, role, message, check);
    if (sessionStorage.getItem('rufbus.ended')) {
      sessionStorage.removeItem('rufbus.ended');
      message.textContent = t('signin.ended');
    }
    if (hasSession()) check();
    else {
      root.hidden = false;
      first();
    }
  });
}
