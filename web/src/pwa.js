// The riders' app as an installable web app: register its service worker (/app-sw.js, scope /app),
// offer a new version when one is waiting, and say when the device is offline.

import { t } from './i18n.js';

const $ = (id) => document.getElementById(id);

/** Show the offline notice while the device has no network. */
function watchConnection() {
  const show = () => {
    $('offline').hidden = navigator.onLine;
  };
  window.addEventListener('online', show);
  window.addEventListener('offline', show);
  show();
}

/** Offer the waiting version `worker`: the button tells it to take over; the page reloads once it has. */
function offerUpdate(worker) {
  $('update').hidden = false;
  $('reload-app').onclick = () => worker.postMessage({ type: 'skip-waiting' });
}

/** Register the service worker (where the browser has one) and wire the update flow. */
export async function installApp() {
  watchConnection();
  if (!('serviceWorker' in navigator)) return null;
  let reloading = false;
  const hadController = Boolean(navigator.serviceWorker.controller);
  navigator.serviceWorker.addEventListener('controllerchange', () => {
    if (!hadController || reloading) return; // the first install: nothing to reload
    reloading = true;
    location.reload();
  });
  try {
    const registration = await navigator.serviceWorker.register('/app-sw.js', { scope: '/app' });
    if (registration.waiting && navigator.serviceWorker.controller) offerUpdate(registration.waiting);
    registration.addEventListener('updatefound', () => {
      const worker = registration.installing;
      worker?.addEventListener('statechange', () => {
        if (worker.state === 'installed' && navigator.serviceWorker.controller) offerUpdate(worker);
      });
    });
    return registration;
  } catch (error) {
    console.warn(t('pwa.failed'), error);
    return null;
  }
}
