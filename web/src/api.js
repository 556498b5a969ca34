// Talking to the Rufbus API: the API key (localStorage), JSON requests, live WebSocket streams with
// reconnection, the sign-in form every page shares, and small formatting helpers.

import { has, t, translate, languageSwitch } from './i18n.js';

const KEY = 'rufbus.key';

/** The stored API key, or null. */
export function apiKey() {
  return localStorage.getItem(KEY);
}

/**
 * A JSON request to the API with the stored key. Resolves to {status, ok, body}; body is the parsed
 * JSON answer (or null). Network failures resolve to status 0 so pages can show one message for them.
 */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  const key = apiKey();
  if (key) init.headers.Authorization = `Bearer ${key}`;
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  let response;
  try {
    response = await fetch(path, init);
  } catch {
    return { status: 0, ok: false, body: { code: 'network', message: t('net.error') } };
  }
  const text = await response.text();
  let parsed = null;
  try {
    parsed = text ? JSON.parse(text) : null;
  } catch {
    parsed = { code: 'not_json', message: text.slice(0, 200) };
  }
  return { status: response.status, ok: response.ok, body: parsed };
}

/**
 * Keep a WebSocket to `path` open (key in ?access_token=), calling `onMessage(json)` for each message
 * and `onState(connected)` when it opens or drops; reconnects after 2 s. Returns {close()}.
 */
export function liveStream(path, onMessage, onState = () => {}) {
  let socket = null;
  let closed = false;
  let retry = null;
  const open = () => {
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const sep = path.includes('?') ? '&' : '?';
    socket = new WebSocket(`${scheme}://${location.host}${path}${sep}access_token=${encodeURIComponent(apiKey())}`);
    socket.onopen = () => onState(true);
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = (event) => {
      onState(false);
      // 4401/4403/4404: the key or the booking is wrong; retrying would not help.
      if (!closed && event.code < 4400) retry = setTimeout(open, 2000);
    };
  };
  open();
  return {
    close() {
      closed = true;
      clearTimeout(retry);
      if (socket) socket.close();
    },
  };
}

/** Show the live state in the element `el` (an aria-live status line). */
export function showLive(el, connected) {
  el.textContent = connected ? t('live.on') : t('live.off');
  el.classList.toggle('live-on', connected);
}

/**
 * The sign-in flow every page shares: translate the page, wire the language switch and sign-out, and
 * resolve with the user (GET /v1/me) once a key of `role` is stored. The form stays until then.
 */
export function signIn(role) {
  translate();
  const select = document.getElementById('lang');
  if (select) languageSwitch(select);
  const form = document.getElementById('login');
  const message = document.getElementById('login-message');
  const logout = document.getElementById('logout');
  logout.addEventListener('click', () => {
    localStorage.removeItem(KEY);
    location.reload();
  });
  return new Promise((resolve) => {
    const check = async () => {
      const me = await api('/v1/me');
      if (me.ok && me.body.role === role) {
        form.hidden = true;
        logout.hidden = false;
        document.body.classList.add('signed-in');
        resolve(me.body);
        return;
      }
      form.hidden = false;
      if (me.status === 0) message.textContent = t('net.error');
      else if (me.ok) message.textContent = t('login.wrongRole', { role: me.body.role, wanted: t(`role.${role}`) });
      else if (apiKey()) message.textContent = t('login.invalid');
      document.getElementById('login-key').focus();
    };
    form.addEventListener('submit', (event) => {
      event.preventDefault();
      localStorage.setItem(KEY, document.getElementById('login-key').value.trim());
      check();
    });
    if (apiKey()) check();
    else {
      form.hidden = false;
      document.getElementById('login-key').focus();
    }
  });
}

/** "HH:MM" of an ISO datetime, read in the service's own local time (the offset the API sent). */
export function hhmm(iso) {
  return iso ? iso.slice(11, 16) : '–';
}

function zoneOffsetMinutes(zone, instant) {
  const parts = new Intl.DateTimeFormat('en-US', { timeZone: zone, timeZoneName: 'longOffset' })
    .formatToParts(new Date(instant));
  const match = parts.find((part) => part.type === 'timeZoneName').value.match(/([+-])(\d{2}):(\d{2})/);
  return match ? (match[1] === '-' ? -1 : 1) * (Number(match[2]) * 60 + Number(match[3])) : 0;
}

/**
 * An aware ISO datetime for the wall-clock `date` ("YYYY-MM-DD") and `time` ("HH:MM") in the service's
 * time zone `me.timezone` (so a summer date gets the summer offset); the offset of `me.now` if the
 * browser cannot tell.
 */
export function serviceTime(me, date, time) {
  let offset = me.now.slice(19).replace(/^\.\d+/, '');
  try {
    const wall = Date.parse(`${date}T${time}:00Z`);
    let minutes = zoneOffsetMinutes(me.timezone, wall);
    minutes = zoneOffsetMinutes(me.timezone, wall - minutes * 60000); // again, at the instant itself
    const abs = Math.abs(minutes);
    offset = `${minutes < 0 ? '-' : '+'}${String(Math.floor(abs / 60)).padStart(2, '0')}:${String(abs % 60).padStart(2, '0')}`;
  } catch {
    // keep the offset of now
  }
  return `${date}T${time}:00${offset}`;
}

/** [from, to) of the service's day now: its midnight and the next one, as aware ISO datetimes. */
export function today(me) {
  const date = me.now.slice(0, 10);
  const next = new Date(`${date}T12:00:00Z`);
  next.setUTCDate(next.getUTCDate() + 1);
  return [serviceTime(me, date, '00:00'), serviceTime(me, next.toISOString().slice(0, 10), '00:00')];
}

/** Create an element: el('li', {class: 'x', text: 'y'}, child, …). */
export function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [name, value] of Object.entries(attrs)) {
    if (value === undefined || value === null || value === false) continue;
    if (name === 'text') node.textContent = value;
    else if (name === 'class') node.className = value;
    else if (name.startsWith('on')) node.addEventListener(name.slice(2), value);
    else node.setAttribute(name, value === true ? '' : value);
  }
  for (const child of children) if (child != null) node.append(child);
  return node;
}

/** A short error text from an API answer body: ours for the codes we know, else the service's message. */
export function errorText(body) {
  if (!body) return '';
  if (body.code && has(`code.${body.code}`)) return t(`code.${body.code}`);
  return body.message || body.code || JSON.stringify(body);
}
