// sw.js - the officers' app service worker: caches the app's shell (its
// HTML, CSS, scripts, manifest and icon) so the app opens at once and
// installs; NEVER images, API answers or events (biometric images and
// alerts stay in memory only and come from the van's server each time).
const CACHE = 'openlfr-app-shell-v1';
const SHELL = ['/app/', '/app/index.html', '/app/app.css', '/app/app.js', '/common/api.js',
  '/app/manifest.webmanifest', '/app/icon.svg'];

self.addEventListener('install', (ev) => {
  ev.waitUntil(caches.open(CACHE).then((c) => c.addAll(SHELL)).then(() => self.skipWaiting()));
});

self.addEventListener('activate', (ev) => {
  ev.waitUntil(caches.keys()
    .then((keys) => Promise.all(keys.filter((k) => k !== CACHE).map((k) => caches.delete(k))))
    .then(() => self.clients.claim()));
});

self.addEventListener('fetch', (ev) => {
  const url = new URL(ev.request.url);
  if (ev.request.method !== 'GET' || url.origin !== location.origin) return;
  if (!SHELL.includes(url.pathname)) return; // the API, events, images: network only
  // network first (a new version of the app is picked up at once), the
  // cached shell when the van cannot be reached
  ev.respondWith(fetch(ev.request).then((res) => {
    if (res.ok) { const copy = res.clone(); caches.open(CACHE).then((c) => c.put(ev.request, copy)); }
    return res;
  }).catch(() => caches.match(ev.request)));
});
