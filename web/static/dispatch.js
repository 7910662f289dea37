// The dispatcher's route map: the project's own network and boundary as the (offline) base,
// each vehicle's route on top. Colour is never the only cue: every stop has a popup with
// the vehicle, time, stop and the export-only booking id (B001, ...; never the booking code).
// Colours and texts come from the page (web/dayview.py), so map, legend and timeline agree
// and the popups speak the reader's language. "Karte zeigt" shows one vehicle's route.
"use strict";
const el = document.getElementById("route-map");
if (el && window.L) {
  const colours = JSON.parse(el.dataset.colours || "{}");
  const colour = (vehicle) => colours[vehicle] || "#1b1b1b";
  const kindText = { pickup: el.dataset.textPickup, dropoff: el.dataset.textDropoff };
  const map = L.map(el, { preferCanvas: true }).setView([51.87, 11.6], 10);
  const choice = document.getElementById("map-vehicle");
  let data = null;
  let shown = null;

  // the vehicle's depot: a square where its route starts
  const depotOf = (f) => {
    const [lon, lat] = f.geometry.coordinates[0];
    const half = 0.0025;
    return L.rectangle([[lat - half, lon - half * 1.6], [lat + half, lon + half * 1.6]], {
      color: colour(f.properties.vehicle), weight: 2, fillColor: "#ffffff", fillOpacity: 1,
    }).bindPopup(`${el.dataset.textDepot} ${f.properties.vehicle}`);
  };

  const draw = (vehicle) => {
    if (shown) shown.remove();
    const depots = [];
    shown = L.geoJSON(data, {
      filter: (f) => !vehicle || f.properties.vehicle === vehicle,
      style: (f) => ({ color: colour(f.properties.vehicle), weight: 3 }),
      pointToLayer: (f, latlng) => L.circleMarker(latlng, {
        radius: 6, weight: 2, color: colour(f.properties.vehicle),
        fillColor: f.properties.kind === "pickup" ? "#ffffff" : colour(f.properties.vehicle),
        fillOpacity: 1,
      }),
      onEachFeature: (f, layer) => {
        const p = f.properties;
        if (f.geometry.type === "LineString" && f.geometry.coordinates.length) depots.push(depotOf(f));
        const text = p.booking_ref
          ? `${p.vehicle} · ${p.time} · ${kindText[p.kind] || p.kind} · ${p.stop} · ${p.booking_ref}`
          : p.vehicle;
        layer.bindPopup(text);
        if (p.booking_ref) layer.options.title = text;
      },
    });
    depots.forEach((d) => shown.addLayer(d));
    shown.addTo(map);
    if (shown.getLayers().length) map.fitBounds(shown.getBounds());
    el.dataset.loaded = String(shown.getLayers().length);
    el.dataset.shown = vehicle || "";
  };

  fetch(el.dataset.basemap).then((r) => r.json()).then((base) => {
    L.geoJSON(base, {
      style: (f) => f.properties.kind === "boundary"
        ? { color: "#4a4a4a", weight: 2, fill: false, dashArray: "6 4" }
        : { color: "#9a9a9a", weight: 1 },
    }).addTo(map);
  }).then(() => fetch(el.dataset.routes)).then((r) => r.json()).then((routes) => {
    data = routes;
    draw(el.dataset.vehicle);
    if (choice) {
      choice.closest(".map-tools").hidden = false;
      choice.addEventListener("change", () => draw(choice.value));
    }
  });
}
