// The riders' app service worker (served at /app-sw.js, scope /app). It keeps the app shell — the page,
// the rider bundle and its chunks, styles, images, icons, the manifest (SHELL_FILES, put in by build.mjs)
// — in a cache named after SHELL_VERSION, so the app opens offline after one visit:
// - the page: network first (a new page at once when online), the cached shell when offline;
// - the shell's files: from the cache (they change only with a new version, which brings a new cache);
// - public map data (/map/…): network first, the last copy when offline (the same for every rider);
// - the API (/v1/…) and everything else: never touched — personal data is never cached, so nothing of
//   one rider can be served to another on the same device.
// A new version installs beside the old one and waits; the page offers to switch (message
// 'skip-waiting'), then reloads once the new one controls it. Old caches go when a version activates.
/* global SHELL_VERSION, SHELL_FILES */

const PREFIX = 'rufbus-rider-';
const SHELL = `${PREFIX}${SHELL_VERSION}`;
const MAP = 'rufbus-map';
const SHELL_PATHS = new Set(SHELL_FILES);

self.addEventListener('install', (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES)));
});

self.addEventListener('activate', (event) => {
  event.waitUntil((async () => {
    for (const name of await caches.keys()) {
      if (name.startsWith(PREFIX) && name !== SHELL) await caches.delete(name);
    }
    await self.clients.claim();
  })());
});

self.addEventListener('message', (event) => {
  if (event.data && event.data.type === 'skip-waiting') self.skipWaiting();
});

async function networkFirst(request, cacheName, fallbackKey) {
  try {
    const response = await fetch(request);
    if (response.ok) {
      const cache = await caches.open(cacheName);
      await cache.put(fallbackKey || request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await caches.match(fallbackKey || request);
    if (cached) return cached;
    throw error;
  }
}

async function cacheFirst(request) {
  const cached = await caches.match(request, { cacheName: SHELL });
  return cached || fetch(request);
}

self.addEventListener('fetch', (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== 'GET' || url.origin !== self.location.origin) return;
  if (url.pathname.startsWith('/v1/')) return; // personal: the network only, never a cache
  if (request.mode === 'navigate' && url.pathname === '/app') {
    event.respondWith(networkFirst(request, SHELL, '/app'));
  } else if (SHELL_PATHS.has(url.pathname)) {
    event.respondWith(cacheFirst(url.pathname));
  } else if (url.pathname.startsWith('/map/')) {
    event.respondWith(networkFirst(request, MAP));
  }
});
