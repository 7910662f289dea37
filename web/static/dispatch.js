// The dispatcher's route map: the project's own network and boundary as the (offline) base,
// each vehicle's route on top. Colour is never the only cue: every stop has a popup with
// the vehicle, time, stop and the export-only booking id (B001, ...; never the booking code).
"use strict";
const COLOURS = ["#00507a", "#a1001a", "#1d5e20", "#6b3fa0", "#8a4b00", "#005f5f", "#5a5a00", "#b0006e"];
const el = document.getElementById("route-map");
// the popups' words, in the page's language (from the template: one catalogue)
const TEXTS = JSON.parse(document.getElementById("dispatch-texts")?.textContent || "{}");
if (el && window.L) {
  const map = L.map(el, { preferCanvas: true }).setView([51.87, 11.6], 10);
  fetch(el.dataset.basemap).then((r) => r.json()).then((data) => {
    L.geoJSON(data, {
      style: (f) => f.properties.kind === "boundary"
        ? { color: "#4a4a4a", weight: 2, fill: false, dashArray: "6 4" }
        : { color: "#9a9a9a", weight: 1 },
    }).addTo(map);
  }).then(() => fetch(el.dataset.routes)).then((r) => r.json()).then((data) => {
    const routes = L.geoJSON(data, {
      style: (f) => ({ color: COLOURS[f.properties.index % COLOURS.length], weight: 3 }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        radius: 6, weight: 2, color: COLOURS[f.properties.index % COLOURS.length],
        fillColor: f.properties.kind === "pickup" ? "#ffffff" : COLOURS[f.properties.index % COLOURS.length],
        fillOpacity: 1,
      }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        const text = p.booking_ref
          ? `${p.vehicle} · ${p.time} · ${p.kind === "pickup" ? TEXTS.pickup : TEXTS.dropoff} · ${p.stop} · ${p.booking_ref}`
          : p.vehicle;
        layer.bindPopup(text);
        if (p.booking_ref) layer.options.title = text;
      },
    }).addTo(map);
    if (routes.getLayers().length) map.fitBounds(routes.getBounds());
    el.dataset.loaded = String(routes.getLayers().length);
  });
}
