// Fares as riders, the desk and drivers see them: an amount in minor units (cents, Rappen) formatted in
// the page's language, and an offer's or booking's fare as a list item (total, then each passenger
// category's count and price). Money stays integer minor units until it is shown.

import { el } from './api.js';
import { addStrings, language, t } from './i18n.js';

addStrings({
  de: {
    'fare.total': 'Preis: {amount}',
    'fare.line': '{count} × {category} à {amount}', 'fare.collect': 'Kassieren: {amount}',
    'fare.cat.adult': 'Erwachsene', 'fare.cat.child': 'Kinder', 'fare.cat.senior': 'Senioren',
    'fare.cat.wheelchair': 'Rollstuhlfahrende', 'fare.cat.companion': 'Begleitpersonen',
  },
  en: {
    'fare.total': 'Price: {amount}',
    'fare.line': '{count} × {category} at {amount}', 'fare.collect': 'Collect: {amount}',
    'fare.cat.adult': 'adults', 'fare.cat.child': 'children', 'fare.cat.senior': 'seniors',
    'fare.cat.wheelchair': 'wheelchair users', 'fare.cat.companion': 'companions',
  },
});

/** `cents` minor units of `currency` (EUR, CHF) as the page's language writes money, e.g. "4,50 €". */
export function formatPrice(cents, currency) {
  const locale = language() === 'en' ? 'en-GB' : (currency === 'CHF' ? 'de-CH' : 'de-DE');
  return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(cents / 100);
}

/** A list item with `fare`'s total and, for more than one passenger, a line per category; without a
fare (no tariff, or a trip the tariff cannot price) a hidden item. */
export function fareItem(fare) {
  if (!fare) return el('li', { class: 'fare none', hidden: true });
  const people = fare.lines.reduce((sum, line) => sum + line.count, 0);
  const lines = people > 1 ? fare.lines.map((line) => el('li', {
    text: t('fare.line', { count: line.count, category: t(`fare.cat.${line.category}`), amount: formatPrice(line.unit_cents, fare.currency) }),
  })) : [];
  return el('li', { class: 'fare', 'data-total-cents': String(fare.total_cents) },
    t('fare.total', { amount: formatPrice(fare.total_cents, fare.currency) }),
    lines.length ? el('ul', {}, ...lines) : null);
}

/** What a driver collects at a pickup (`fare` of the manifest's stop), as a line of text. */
export function collectText(fare) {
  return t('fare.collect', { amount: formatPrice(fare.total_cents, fare.currency) });
}
