// The operators' service calendar (GET/PUT /v1/operator/calendar, POST/DELETE .../exceptions): per weekday
// the standard hours, closed, or hours of its own; exceptions by date (public holidays closed, or special
// hours). Times are local "HH:MM"; an end of "00:00" means midnight at the end of the day (24:00).

import { api, el, errorText } from './api.js';
import { t } from './i18n.js';

const WEEKDAYS = ['monday', 'tuesday', 'wednesday', 'thursday', 'friday', 'saturday', 'sunday'];
const DAY_S = 86400;
const state = { calendar: null, today: null };

const $ = (id) => document.getElementById(id);

function clock(seconds) {
  const s = seconds % DAY_S;
  return `${String(Math.floor(s / 3600)).padStart(2, '0')}:${String(Math.floor((s % 3600) / 60)).padStart(2, '0')}`;
}

function seconds(value, isEnd) {
  const [h, m] = String(value || '').split(':').map(Number);
  const s = (h || 0) * 3600 + (m || 0) * 60;
  return isEnd && s === 0 ? DAY_S : s;
}

function hoursText(hours) {
  return hours ? `${clock(hours.start_s)}–${hours.end_s === DAY_S ? '24:00' : clock(hours.end_s)}` : t('cal.closed');
}

/** A select (standard / closed / own hours) and two time inputs, named after `label`. */
function hoursControls(label, hours, withStandard) {
  const kind = hours === undefined ? 'standard' : hours === null ? 'closed' : 'hours';
  const options = [...(withStandard ? ['standard'] : []), 'closed', 'hours'];
  const select = el('select', { name: 'kind', 'aria-label': `${label}: ${t('cal.kind')}` },
    ...options.map((value) => el('option', { value, selected: value === kind,
      text: value === 'standard' ? t('cal.standard', { hours: hoursText(state.calendar.standard) }) : t(`cal.${value}`) })));
  const start = el('input', { name: 'start', type: 'time', 'aria-label': `${label}: ${t('cal.from')}`,
    value: hours ? clock(hours.start_s) : clock(state.calendar.standard.start_s) });
  const end = el('input', { name: 'end', type: 'time', 'aria-label': `${label}: ${t('cal.to')}`,
    value: hours ? clock(hours.end_s) : clock(state.calendar.standard.end_s) });
  const sync = () => {
    start.disabled = end.disabled = select.value !== 'hours';
  };
  select.addEventListener('change', sync);
  sync();
  return [select, start, end];
}

/** What a row of hours controls says: undefined (standard), null (closed) or {start_s, end_s}. */
function hoursOf(row) {
  const kind = row.querySelector('[name=kind]').value;
  if (kind === 'standard') return undefined;
  if (kind === 'closed') return null;
  return { start_s: seconds(row.querySelector('[name=start]').value, false),
    end_s: seconds(row.querySelector('[name=end]').value, true) };
}

function problems(body) {
  const detail = body?.detail;
  if (!Array.isArray(detail)) return [errorText(body)];
  return detail.map((item) => (typeof item === 'string' ? item
    : `${(item.loc ?? []).filter((p) => p !== 'body').join('.')}: ${item.msg ?? JSON.stringify(item)}`));
}

function report(answer, okText) {
  const box = $('calendar-message');
  if (answer.ok) box.replaceChildren(el('p', { class: 'ok', text: okText }));
  else {
    box.replaceChildren(el('p', { class: 'error', text: t('cal.invalid') }),
      el('ul', { class: 'error' }, ...problems(answer.body).map((p) => el('li', { text: p }))));
  }
}

function render() {
  const calendar = state.calendar;
  const weekdays = el('table', { class: 'table', id: 'calendar-weekdays' },
    el('caption', { text: t('cal.weekdays') }),
    el('tbody', {}, ...WEEKDAYS.map((day) => el('tr', { 'data-weekday': day },
      el('th', { scope: 'row', text: t(`day.${day}`) }),
      el('td', {}, el('div', { class: 'hours' }, ...hoursControls(t(`day.${day}`), calendar.weekdays[day], true)))))));
  const save = el('button', { type: 'button', text: t('cal.save'), onclick: saveWeekdays });
  const exceptions = calendar.exceptions.length
    ? el('ul', { class: 'shift-list', id: 'calendar-exceptions' }, ...calendar.exceptions.map((e) => el('li', { 'data-day': e.day },
      `${e.day}${e.name ? ` ${e.name}` : ''}: ${hoursText(e.hours)} `,
      el('button', { type: 'button', class: 'danger', text: t('cal.remove'), 'aria-label': `${t('cal.remove')} ${e.day}`,
        onclick: () => removeException(e.day) }))))
    : el('p', { id: 'calendar-exceptions', text: t('cal.noExceptions') });
  const form = el('form', { class: 'grid-form', id: 'calendar-exception-form', novalidate: true },
    el('label', {}, el('span', { text: t('cal.date') }), el('input', { name: 'day', type: 'date', value: state.today, required: true })),
    el('label', {}, el('span', { text: t('cal.name') }), el('input', { name: 'name', maxlength: '120' })),
    ...hoursControls(t('cal.exception'), null, false),
    el('button', { type: 'submit', text: t('cal.add') }));
  form.addEventListener('submit', addException);
  $('calendar').replaceChildren(weekdays, save, el('h3', { text: t('cal.exceptions') }), exceptions, form);
}

export async function loadCalendar(today) {
  if (today) state.today = today;
  const answer = await api('/v1/operator/calendar');
  if (!answer.ok) return;
  state.calendar = answer.body;
  render();
}

async function saveWeekdays() {
  const weekdays = {};
  for (const row of $('calendar-weekdays').querySelectorAll('tr[data-weekday]')) {
    const hours = hoursOf(row);
    if (hours !== undefined) weekdays[row.dataset.weekday] = hours;
  }
  const answer = await api('/v1/operator/calendar', { method: 'PUT', body: { weekdays, exceptions: state.calendar.exceptions } });
  report(answer, t('cal.saved'));
  if (answer.ok) {
    state.calendar = answer.body;
    render();
  }
}

async function addException(event) {
  event.preventDefault();
  const form = $('calendar-exception-form');
  const f = new FormData(form);
  const answer = await api('/v1/operator/calendar/exceptions', {
    method: 'POST', body: { day: f.get('day'), name: f.get('name') || '', hours: hoursOf(form) ?? null },
  });
  report(answer, t('cal.saved'));
  if (answer.ok) {
    state.calendar = answer.body;
    render();
  }
}

async function removeException(day) {
  const answer = await api(`/v1/operator/calendar/exceptions/${encodeURIComponent(day)}`, { method: 'DELETE' });
  report(answer, t('cal.saved'));
  await loadCalendar();
}
