// Talking to the Rufbus API: the session's tokens, JSON requests, live WebSocket streams with
// reconnection, and small formatting helpers. Signing in is web/src/signin.js.
//
// Tokens: the short-lived access token lives in this page's memory only; the refresh token is kept in
// localStorage so that a reload or a new tab stays signed in. (An HttpOnly cookie would hide it from
// scripts, but then the refresh endpoint would need CSRF protection and cookie handling through the
// workers' forwarding; with bearer tokens only, no request is sent with ambient credentials, so there is
// no CSRF at all. The page's strict Content-Security-Policy keeps foreign scripts out, the refresh token
// rotates on every use — a stolen copy that is used revokes the session — and operators can revoke it.)
// No permanent key is ever stored: a device key typed into the sign-in form is exchanged for a session.

import { has, t } from './i18n.js';

const REFRESH = 'rufbus.refresh';
const SIGNED_OUT = 'rufbus:signed-out';
let access = null;
let accessUntil = 0;
let renewing = null;

/** Whether this browser holds a session (a refresh token). */
export function hasSession() {
  return localStorage.getItem(REFRESH) !== null;
}

/** Keep the tokens of a new or renewed session (POST /v1/auth/verify, /refresh, /device answers). */
export function keepTokens(tokens) {
  access = tokens.access_token;
  accessUntil = Date.now() + Math.max(0, tokens.expires_in - 30) * 1000; // renew a little early
  localStorage.setItem(REFRESH, tokens.refresh_token);
}

/** Forget the session here and tell the page (signin.js shows the sign-in form again). */
export function forgetSession() {
  const had = access !== null || hasSession();
  access = null;
  localStorage.removeItem(REFRESH);
  if (had) window.dispatchEvent(new Event(SIGNED_OUT));
}

/** Call `handler` when the session ends (signed out, revoked, expired). */
export function onSignedOut(handler) {
  window.addEventListener(SIGNED_OUT, handler);
}

async function renewOnce() {
  const token = localStorage.getItem(REFRESH); // read inside the lock: another tab may have renewed
  if (!token) return false;
  let response;
  try {
    response = await fetch('/v1/auth/refresh', {
      method: 'POST', headers: { 'Content-Type': 'application/json', Accept: 'application/json' },
      body: JSON.stringify({ refresh_token: token }),
    });
  } catch {
    return false; // offline: keep the session, try again later
  }
  if (response.ok) {
    keepTokens(await response.json());
    return true;
  }
  if (response.status === 401) forgetSession();
  return false;
}

/**
 * Renew the access token with the refresh token, once at a time in this tab, and one tab at a time
 * (navigator.locks): a refresh token works once, so two tabs renewing with the same one would look like
 * theft and revoke the session.
 */
function renew() {
  if (!renewing) {
    const run = navigator.locks ? navigator.locks.request('rufbus-refresh', renewOnce) : renewOnce();
    renewing = run.finally(() => { renewing = null; });
  }
  return renewing;
}

/** The current access token (renewed when it is about to expire), or null without a session. */
export async function accessToken() {
  if (access && Date.now() < accessUntil) return access;
  return (await renew()) ? access : null;
}

/** The Authorization header of the session, for fetches that are not JSON (CSV, reports). */
export async function authHeaders() {
  const token = await accessToken();
  return token ? { Authorization: `Bearer ${token}` } : {};
}

/** End the session: on the server (its tokens and streams stop) and here. */
export async function signOut() {
  const token = access;
  if (token) {
    try {
      await fetch('/v1/auth/sign-out', { method: 'POST', headers: { Authorization: `Bearer ${token}` } });
    } catch {
      // offline: the session ends here anyway and expires there
    }
  }
  forgetSession();
}

async function send(path, method, body, headers) {
  const init = { method, headers: { Accept: 'application/json', ...headers } };
  if (body !== undefined) {
    init.headers['Content-Type'] = 'application/json';
    init.body = JSON.stringify(body);
  }
  return fetch(path, init);
}

/**
 * A JSON request to the API with the session's access token. Resolves to {status, ok, body}; body is the
 * parsed JSON answer (or null). A 401 renews the access token once and tries again; if that fails the
 * session is over. Network failures resolve to status 0 so pages can show one message for them.
 */
export async function api(path, { method = 'GET', body, headers = {} } = {}) {
  let response;
  try {
    response = await send(path, method, body, { ...headers, ...(await authHeaders()) });
    if (response.status === 401 && hasSession()) {
      access = null;
      if (await renew()) response = await send(path, method, body, { ...headers, ...(await authHeaders()) });
    }
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
 * Keep a WebSocket to `path` open, calling `onMessage(json)` for each message and `onState(connected)`
 * when it opens or drops; reconnects after 2 s. Each connection opens with a fresh single-use ticket
 * (POST /v1/auth/ws-ticket, `?ticket=`): no key or token ever goes into a URL. Closed with 4401 (the
 * session was revoked) it renews the session or, failing that, ends it. Returns {close()}.
 */
export function liveStream(path, onMessage, onState = () => {}) {
  let socket = null;
  let closed = false;
  let retry = null;
  const later = () => { if (!closed) retry = setTimeout(open, 2000); };
  async function open() {
    const ticket = await api('/v1/auth/ws-ticket', { method: 'POST' });
    if (closed) return;
    if (!ticket.ok) {
      onState(false);
      if (ticket.status !== 401) later();
      return;
    }
    const scheme = location.protocol === 'https:' ? 'wss' : 'ws';
    const sep = path.includes('?') ? '&' : '?';
    socket = new WebSocket(`${scheme}://${location.host}${path}${sep}ticket=${encodeURIComponent(ticket.body.ticket)}`);
    socket.onopen = () => onState(true);
    socket.onmessage = (event) => onMessage(JSON.parse(event.data));
    socket.onclose = async (event) => {
      onState(false);
      if (closed) return;
      if (event.code === 4401) {
        access = null;
        if (await renew()) later(); // the stream's session ended, but this one lives on
        return;
      }
      // 4403/4404: the role or the booking is wrong; retrying would not help.
      if (event.code < 4400) later();
    };
  }
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
