// The driver app's service worker (served as /fahrer/sw.js, so it controls /fahrer/...):
// network first, and the last good copy of a driver page or of the static files when
// there is no network, so that a reload in a dead spot still shows the stop list. The
// events themselves never pass through here: driver.js queues them in localStorage.
"use strict";
const CACHE = "rufbus-driver-v1";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

// What is worth keeping: the driver pages and the static files of this site.
function keepable(url, page) {
  return url.origin === self.location.origin
    && ((page && url.pathname.startsWith("/fahrer/")) || url.pathname.startsWith("/static/"));
}

// A page that loaded before this worker was in control did not pass through it, so it was
// not kept: driver.js then asks for it (and its files) to be fetched and kept now.
self.addEventListener("message", (event) => {
  const urls = Array.isArray(event.data && event.data.keep) ? event.data.keep : [];
  const wanted = urls.filter((u) => keepable(new URL(u, self.location.origin), true));
  event.waitUntil(caches.open(CACHE).then((cache) => cache.addAll(wanted)).catch(() => {}));
});

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET" || !keepable(new URL(request.url), request.mode === "navigate")) {
    return;
  }
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
