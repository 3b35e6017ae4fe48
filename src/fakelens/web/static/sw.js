// fakelens service worker: keeps the app shell (style, script, icons, offline page) for
// offline starts. Pages, results, reports and the API always come from the network and
// are never stored: they are private and change.
"use strict";

const SHELL = "fakelens-shell-v1";
const SHELL_FILES = ["/offline", "/static/style.css", "/static/app.js", "/static/favicon.svg",
                     "/static/icon-192.png", "/static/icon-512.png"];

self.addEventListener("install", (event) => {
  event.waitUntil(caches.open(SHELL).then((cache) => cache.addAll(SHELL_FILES))
    .then(() => self.skipWaiting()));
});

self.addEventListener("activate", (event) => {
  event.waitUntil(caches.keys().then((names) => Promise.all(
    names.filter((n) => n !== SHELL).map((n) => caches.delete(n))))
    .then(() => self.clients.claim()));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  if (SHELL_FILES.includes(url.pathname)) {
    // network first (fresh after an upgrade), the cached copy offline
    event.respondWith(fetch(request).then((response) => {
      const copy = response.clone();
      if (response.ok) caches.open(SHELL).then((cache) => cache.put(request, copy));
      return response;
    }).catch(() => caches.match(request)));
  } else if (request.mode === "navigate") {
    // network only; the cached offline page when there is no network
    event.respondWith(fetch(request).catch(() => caches.match("/offline")));
  }
});
