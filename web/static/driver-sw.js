// The driver app's service worker (served as /fahrer/sw.js, so it controls /fahrer/...):
// network first, and the last good copy of a driver page or of the static files when
// there is no network, so that a reload in a dead spot still shows the stop list. The
// events themselves never pass through here: driver.js queues them in localStorage.
"use strict";
const CACHE = "rufbus-driver-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("fetch", (event) => {
  const request = event.request;
  const url = new URL(request.url);
  if (request.method !== "GET" || url.origin !== self.location.origin) return;
  const page = request.mode === "navigate" && url.pathname.startsWith("/fahrer/");
  if (!page && !url.pathname.startsWith("/static/")) return;
  event.respondWith(
    fetch(request).then((response) => {
      if (response.ok) {
        const copy = response.clone();
        event.waitUntil(caches.open(CACHE).then((cache) => cache.put(request, copy)));
      }
      return response;
    }).catch(() => caches.match(request).then((hit) => hit || Response.error())),
  );
});
