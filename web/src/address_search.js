// An address and place search field with suggestions as one types (GET /v1/places/search): a WAI-ARIA
// combobox with a listbox popup. Keyboard: ↓/↑ move through the suggestions, Enter picks, Escape closes;
// a click or tap picks too. Suggestions outside the service area are shown, marked, and cannot be picked.
// Reusable: `addressSearch(input, { onPick })` on any <input>; styles in style.css (.address-search).

import { addStrings, onLanguage, t } from './i18n.js';

addStrings({
  de: {
    'search.placeholder': 'Straße und Hausnummer, Ort, Haltestelle …',
    'search.count': '{n} Vorschläge; mit Pfeiltasten wählen',
    'search.one': '1 Vorschlag; mit Pfeiltasten wählen',
    'search.none': 'Keine Treffer',
    'search.failed': 'Die Suche ist gerade nicht möglich.',
    'search.outside': 'außerhalb des Bediengebiets',
    'search.chosen': '{label} gewählt',
    'search.kind.address': 'Adresse', 'search.kind.place': 'Ort', 'search.kind.stop': 'Haltestelle',
    'search.kind.street': 'Straße', 'search.kind.poi': 'Ziel',
  },
  en: {
    'search.placeholder': 'Street and number, place, stop …',
    'search.count': '{n} suggestions; use the arrow keys to choose',
    'search.one': '1 suggestion; use the arrow keys to choose',
    'search.none': 'No matches',
    'search.failed': 'Search is not available right now.',
    'search.outside': 'outside the service area',
    'search.chosen': '{label} chosen',
    'search.kind.address': 'Address', 'search.kind.place': 'Place', 'search.kind.stop': 'Stop',
    'search.kind.street': 'Street', 'search.kind.poi': 'Point of interest',
  },
});

const DELAY_MS = 120; // wait this long after the last key before asking
const MAX_QUERY = 100; // api/routes/places.py MAX_QUERY
let counter = 0;

/**
 * Turn `input` into an address search. `onPick(hit)` is called with the chosen hit (`{id, kind, name,
 * detail, label, lat, lon, in_area, stop_point}`, see GET /v1/places/search). Returns `{ set(label),
 * clear(), close() }` to show a place chosen otherwise (e.g. on the map) or reset the field.
 */
export function addressSearch(input, { onPick, limit = 8 } = {}) {
  counter += 1;
  const id = `address-search-${counter}`;
  const wrapper = document.createElement('div');
  wrapper.className = 'address-search';
  input.replaceWith(wrapper);
  wrapper.append(input);
  const list = Object.assign(document.createElement('ul'), { id: `${id}-list`, className: 'address-search-list', hidden: true });
  list.setAttribute('role', 'listbox');
  const status = Object.assign(document.createElement('p'), { className: 'visually-hidden' });
  status.setAttribute('role', 'status');
  status.setAttribute('aria-live', 'polite');
  wrapper.append(list, status);
  Object.assign(input, { type: 'search', autocomplete: 'off', spellcheck: false, maxLength: MAX_QUERY });
  input.setAttribute('role', 'combobox');
  input.setAttribute('aria-autocomplete', 'list');
  input.setAttribute('aria-expanded', 'false');
  input.setAttribute('aria-controls', list.id);
  const placeholder = () => { input.placeholder = t('search.placeholder'); };
  placeholder();
  onLanguage(placeholder);

  let hits = [];
  let active = -1;
  let timer = null;
  let asking = null; // the AbortController of the request in flight
  let asked = '';

  function close() {
    list.hidden = true;
    input.setAttribute('aria-expanded', 'false');
    input.removeAttribute('aria-activedescendant');
    active = -1;
  }

  function highlight(index) {
    active = index;
    [...list.children].forEach((li, i) => li.setAttribute('aria-selected', String(i === index)));
    if (index < 0) input.removeAttribute('aria-activedescendant');
    else {
      input.setAttribute('aria-activedescendant', `${id}-${index}`);
      list.children[index].scrollIntoView({ block: 'nearest' });
    }
  }

  function render() {
    list.replaceChildren(...hits.map((hit, i) => {
      const li = document.createElement('li');
      li.id = `${id}-${i}`;
      li.setAttribute('role', 'option');
      li.setAttribute('aria-selected', 'false');
      li.dataset.kind = hit.kind;
      if (!hit.in_area) li.setAttribute('aria-disabled', 'true');
      const name = Object.assign(document.createElement('span'), { className: 'name', textContent: hit.name });
      const where = [t(`search.kind.${hit.kind}`), hit.detail, hit.in_area ? '' : t('search.outside')].filter(Boolean).join(' · ');
      const detail = Object.assign(document.createElement('span'), { className: 'detail', textContent: where });
      li.append(name, detail);
      li.addEventListener('mousedown', (event) => event.preventDefault()); // keep the focus in the input
      li.addEventListener('click', () => pick(i));
      return li;
    }));
    const open = hits.length > 0;
    list.hidden = !open;
    input.setAttribute('aria-expanded', String(open));
    highlight(-1);
    status.textContent = open ? t(hits.length === 1 ? 'search.one' : 'search.count', { n: hits.length }) : t('search.none');
  }

  function pick(index) {
    const hit = hits[index];
    if (!hit || !hit.in_area) return;
    input.value = hit.label;
    asked = hit.label;
    close();
    status.textContent = t('search.chosen', { label: hit.label });
    onPick?.(hit);
  }

  async function ask(query) {
    asking?.abort();
    asking = new AbortController();
    try {
      const params = new URLSearchParams({ q: query, limit: String(limit) });
      const answer = await fetch(`/v1/places/search?${params}`, { signal: asking.signal });
      hits = answer.ok ? await answer.json() : [];
      if (!answer.ok && answer.status !== 422) status.textContent = t('search.failed');
      else render();
    } catch (error) {
      if (error.name !== 'AbortError') status.textContent = t('search.failed');
    }
  }

  input.addEventListener('input', () => {
    clearTimeout(timer);
    const query = input.value.trim();
    if (query === asked) return;
    asked = query;
    if (!/[\p{L}\p{N}]/u.test(query)) {
      asking?.abort();
      hits = [];
      close();
      return;
    }
    timer = setTimeout(() => ask(query), DELAY_MS);
  });

  input.addEventListener('keydown', (event) => {
    const open = !list.hidden && hits.length > 0;
    if (event.key === 'ArrowDown' || event.key === 'ArrowUp') {
      if (!open) {
        if (hits.length) render();
        return;
      }
      event.preventDefault();
      // Positions -1 (the field itself) .. hits.length - 1, wrapping round.
      const next = active + (event.key === 'ArrowDown' ? 1 : -1);
      highlight(next >= hits.length ? -1 : next < -1 ? hits.length - 1 : next);
    } else if (event.key === 'Enter' && open && active >= 0) {
      event.preventDefault();
      pick(active);
    } else if (event.key === 'Escape' && open) {
      event.preventDefault();
      close();
    }
  });
  input.addEventListener('blur', close);

  return {
    set(label) {
      input.value = label;
      asked = label;
      close();
    },
    clear() {
      input.value = '';
      asked = '';
      hits = [];
      close();
    },
    close,
  };
}
