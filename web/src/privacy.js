// The rider's data rights on the riders' page: "My data" downloads everything the service keeps about
// them (GET /v1/rider/me/export, a JSON file), "Delete account" erases it after a confirmation
// (DELETE /v1/rider/me: open bookings are cancelled, the key stops working) and signs out.
// What is kept and for how long: /privacy.

import { api, errorText } from './api.js';
import { t } from './i18n.js';

const KEY = 'rufbus.key'; // where ./api.js keeps the key

/** Wire the buttons ``#my-data`` and ``#erase-me``; what they did is said in ``#privacy-message``. */
export function installPrivacy() {
  const say = (text) => { document.getElementById('privacy-message').textContent = text; };
  document.getElementById('my-data').addEventListener('click', async () => {
    const answer = await api('/v1/rider/me/export');
    if (!answer.ok) {
      say(errorText(answer.body));
      return;
    }
    const file = new Blob([JSON.stringify(answer.body, null, 2)], { type: 'application/json' });
    const link = document.createElement('a');
    link.href = URL.createObjectURL(file);
    link.download = 'rufbus-data.json';
    link.click();
    URL.revokeObjectURL(link.href);
    say(t('privacy.exported'));
  });
  document.getElementById('erase-me').addEventListener('click', async () => {
    if (!window.confirm(t('privacy.confirm'))) return;
    const answer = await api('/v1/rider/me', { method: 'DELETE' });
    if (!answer.ok) {
      say(errorText(answer.body));
      return;
    }
    localStorage.removeItem(KEY);
    localStorage.removeItem('rufbus.booking');
    say(t('privacy.erased'));
    document.body.classList.remove('signed-in');
    document.getElementById('logout').hidden = true;
  });
}
