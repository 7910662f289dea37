// Progressive enhancements of the booking pages; everything works without them.
"use strict";

// Typeahead: fill the <datalist> of a stop field from the stop search API.
document.querySelectorAll("input[data-typeahead]").forEach((input) => {
  const list = document.getElementById(input.dataset.typeahead);
  let timer = null;
  input.addEventListener("input", () => {
    clearTimeout(timer);
    const q = input.value.trim();
    if (q.length < 2) return;
    timer = setTimeout(async () => {
      const response = await fetch("/api/v1/stops?limit=10&q=" + encodeURIComponent(q));
      if (!response.ok) return;
      const data = await response.json();
      list.replaceChildren(...data.stops.map((stop) => {
        const option = document.createElement("option");
        option.value = stop.label;
        return option;
      }));
    }, 150);
  });
});

// Map picker: towns and villages labelled, stops clustered at low zoom, a tap takes the stop
// nearest the finger (and lists the others within reach), every stop reachable by keyboard.
// On a phone the map waits behind its button: typing the stop's name is the main way there.
const mapSection = document.getElementById("map-section");
if (mapSection && window.L) {
  mapSection.hidden = false;
  const toggle = document.getElementById("map-toggle");
  const box = document.getElementById(toggle.getAttribute("aria-controls"));
  let picker = null;
  const show = (open) => {
    toggle.setAttribute("aria-expanded", String(open));
    box.hidden = !open;
    if (open && !picker) picker = stopPicker(document.getElementById("stop-map"));
    else if (open) picker.invalidateSize();
  };
  show(!window.matchMedia("(max-width: 40rem)").matches);
  toggle.addEventListener("click", () => show(toggle.getAttribute("aria-expanded") !== "true"));
}

/** The stop picker on ``element``; returns its Leaflet map. */
function stopPicker(element) {
  const CLUSTER_BELOW = 15; // from this zoom on every stop has its own marker
  const CELL_PX = 56; // grid cell of the clustering, in screen pixels
  const FINGER_PX = 22; // how far from a tap a stop still counts as tapped
  const NEARBY = 4; // at most this many other stops are offered beside the nearest
  const text = element.dataset;
  const map = L.map(element, { preferCanvas: true, maxZoom: 18, zoomSnap: 0.5 })
    .setView([51.87, 11.6], 10);
  // over the stops, to be read, just above the place (its stops are on it); a tap goes through
  map.createPane("places").style.zIndex = 620;
  const stops = L.layerGroup().addTo(map);
  const places = L.layerGroup().addTo(map);
  let all = [];
  let placeData = [];
  let shown = []; // the groups on the map now: {stops, latlng, marker}
  let focusAfterDraw = null; // stop ids, one of which gets the focus after the next drawing

  fetch(text.basemap).then((r) => r.json()).then((data) => {
    // offline base layer: the project's own network and the district boundary
    L.geoJSON(data, {
      style: (f) => f.properties.kind === "boundary"
        ? { color: "#4a4a4a", weight: 2, fill: false, dashArray: "6 4" }
        : { color: "#a8a8a8", weight: 1 },
      interactive: false,
    }).addTo(map);
  });
  fetch(text.places).then((r) => r.json()).then((data) => {
    placeData = data.features
      .map((f) => ({
        name: f.properties.name,
        population: f.properties.population,
        latlng: L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]),
      }))
      .sort((a, b) => b.population - a.population);
    drawPlaces();
  });
  fetch(text.stops).then((r) => r.json()).then((data) => {
    all = data.features.map((f) => ({
      id: f.properties.id,
      label: f.properties.label,
      latlng: L.latLng(f.geometry.coordinates[1], f.geometry.coordinates[0]),
    }));
    map.fitBounds(L.latLngBounds(all.map((s) => s.latlng)), { padding: [8, 8] });
    drawStops();
    element.dataset.loaded = String(all.length);
  });
  map.on("moveend", drawStops);
  map.on("zoomend", drawPlaces);
  map.on("click", (e) => pickAt(e.containerPoint));

  /** Stops grouped by a grid of screen cells at ``zoom``: one group per occupied cell. */
  function groups(zoom) {
    if (zoom >= CLUSTER_BELOW) return all.map((s) => ({ stops: [s], latlng: s.latlng }));
    const cells = new Map();
    for (const s of all) {
      const p = map.project(s.latlng, zoom);
      const key = `${Math.floor(p.x / CELL_PX)}:${Math.floor(p.y / CELL_PX)}`;
      if (!cells.has(key)) cells.set(key, []);
      cells.get(key).push(s);
    }
    // a cluster of a neighbouring cell may sit on a cluster or stop: merge them, biggest first
    const merged = [];
    for (const members of [...cells.values()].sort((a, b) => b.length - a.length)) {
      const at = meanPoint(members, zoom);
      const near = merged.find((m) => (m.stops.length > 1 || members.length > 1)
        && m.at.distanceTo(at) < CELL_PX * 0.8);
      if (near) {
        near.stops.push(...members);
        near.at = meanPoint(near.stops, zoom);
      } else merged.push({ stops: members, at });
    }
    return merged.map((m) => ({ stops: m.stops, latlng: map.unproject(m.at, zoom) }));
  }

  function meanPoint(members, zoom) {
    const points = members.map((s) => map.project(s.latlng, zoom));
    return L.point(
      points.reduce((sum, p) => sum + p.x, 0) / points.length,
      points.reduce((sum, p) => sum + p.y, 0) / points.length,
    );
  }

  /** The stop and cluster markers of the view; markers still wanted are kept (and their focus). */
  function drawStops() {
    if (!all.length) return;
    const view = map.getBounds().pad(0.25);
    // north to south, then west to east: the order in which Tab visits new markers
    const wanted = groups(map.getZoom())
      .filter((g) => view.contains(g.latlng))
      .sort((a, b) => b.latlng.lat - a.latlng.lat || a.latlng.lng - b.latlng.lng);
    const before = new Map(shown.map((g) => [g.key, g]));
    shown = wanted.map((g) => {
      g.key = g.stops.map((s) => s.id).join(",");
      const kept = before.get(g.key);
      before.delete(g.key);
      return kept || withMarker(g);
    });
    for (const gone of before.values()) stops.removeLayer(gone.marker);
    if (focusAfterDraw) {
      const ids = focusAfterDraw;
      focusAfterDraw = null;
      const target = shown.find((g) => g.stops.some((s) => ids.has(s.id)));
      if (target) target.marker.getElement().focus();
    }
  }

  /** ``g`` with its marker, on the map: a press picks as a tap does, Enter or Space takes it. */
  function withMarker(g) {
    g.marker = g.stops.length > 1 ? clusterMarker(g) : stopMarker(g);
    g.marker.addTo(stops);
    g.marker.getElement().setAttribute("aria-label", g.stops.length > 1
      ? text.labelCluster.replace("%(count)s", g.stops.length) + ": " + g.stops[0].label
      : g.stops[0].label);
    g.marker.on("click", (e) => pickAt(map.mouseEventToContainerPoint(e.originalEvent)));
    g.marker.on("keydown", (e) => {
      if (e.originalEvent.key !== "Enter" && e.originalEvent.key !== " ") return;
      e.originalEvent.preventDefault();
      if (g.stops.length > 1) zoomInto(g, true);
      else offer(g.stops[0], [], g.marker.getElement());
    });
    return g;
  }

  function stopMarker(g) {
    const icon = L.divIcon({ className: "stop-marker", iconSize: [24, 24], html: "<span></span>" });
    return L.marker(g.latlng, { icon, keyboard: true, riseOnHover: true });
  }

  function clusterMarker(g) {
    const n = g.stops.length;
    const size = n < 10 ? 30 : n < 100 ? 36 : 42;
    const icon = L.divIcon({ className: "stop-cluster", iconSize: [size, size], html: String(n) });
    return L.marker(g.latlng, { icon, keyboard: true });
  }

  /** A tap or click at ``point``: the nearest group within reach of a finger. */
  function pickAt(point) {
    const near = shown
      .map((g) => ({ g, px: map.latLngToContainerPoint(g.latlng).distanceTo(point) }))
      .filter((d) => d.px <= FINGER_PX)
      .sort((a, b) => a.px - b.px);
    if (!near.length) return;
    const first = near[0].g;
    if (first.stops.length > 1) {
      zoomInto(first, false);
      return;
    }
    const others = near.slice(1).filter((d) => d.g.stops.length === 1).map((d) => d.g.stops[0]);
    offer(first.stops[0], others.slice(0, NEARBY), first.marker.getElement());
  }

  /** Zoom in on a cluster, at least one level, far enough to show its stops. */
  function zoomInto(g, byKeyboard) {
    const bounds = L.latLngBounds(g.stops.map((s) => s.latlng));
    const fit = map.getBoundsZoom(bounds, false, L.point(60, 60));
    const zoom = Math.min(Math.max(fit, map.getZoom() + 1), CLUSTER_BELOW);
    if (byKeyboard) focusAfterDraw = new Set(g.stops.map((s) => s.id));
    map.setView(bounds.getCenter(), zoom);
  }

  /** The popup for ``stop``: take it as start or destination, or one of ``others``. */
  function offer(stop, others, opener) {
    const popup = document.createElement("div");
    popup.className = "stop-popup";
    const fill = (chosen, rest) => {
      const name = document.createElement("p");
      name.className = "stop-name";
      name.textContent = chosen.label;
      const actions = document.createElement("p");
      actions.className = "actions";
      for (const field of ["origin", "destination"]) {
        const button = document.createElement("button");
        button.type = "button";
        button.className = "secondary";
        button.textContent = field === "origin" ? text.labelOrigin : text.labelDestination;
        button.addEventListener("click", () => {
          const input = document.getElementById(field);
          input.value = chosen.label;
          map.closePopup();
          input.focus();
        });
        actions.append(button);
      }
      popup.replaceChildren(name, actions);
      if (rest.length) {
        const nearby = document.createElement("div");
        nearby.className = "nearby";
        const title = document.createElement("p");
        title.textContent = text.labelNearby;
        const list = document.createElement("ul");
        for (const other of rest) {
          const item = document.createElement("li");
          const button = document.createElement("button");
          button.type = "button";
          button.className = "link";
          button.textContent = other.label;
          button.addEventListener("click", () => {
            fill(other, [chosen, ...rest.filter((s) => s !== other)]);
            popup.querySelector("button").focus();
          });
          item.append(button);
          list.append(item);
        }
        nearby.append(title, list);
        popup.append(nearby);
      }
    };
    fill(stop, others);
    L.popup({ maxWidth: 320, autoPanPadding: [20, 20] }).setLatLng(stop.latlng).setContent(popup).openOn(map);
    popup.querySelector("button").focus({ preventScroll: true });
    popup.addEventListener("keydown", (e) => {
      if (e.key === "Escape") map.closePopup();
    });
    // back to the stop that opened it, unless the rider went elsewhere
    map.once("popupclose", () => {
      const lost = popup.contains(document.activeElement) || document.activeElement === document.body;
      if (opener && opener.isConnected && lost) opener.focus();
    });
  }

  /** Place names, the biggest first; a label that would overlap one already there is left out. */
  function drawPlaces() {
    if (!placeData.length) return;
    places.clearLayers();
    const zoom = map.getZoom();
    // towns always; villages of 1,000 people and more from zoom 11; every village from 12
    const least = zoom < 11 ? 4000 : zoom < 12 ? 1000 : 0;
    const kept = [];
    for (const p of placeData) {
      if (p.population < least) continue;
      const icon = L.divIcon({
        className: "place-anchor",
        iconSize: [0, 0],
        html: `<span class="place-label ${p.population >= 4000 ? "town" : "village"}"></span>`,
      });
      const marker = L.marker(p.latlng, { icon, pane: "places", interactive: false, keyboard: false });
      marker.addTo(places);
      const label = marker.getElement().firstChild;
      label.textContent = p.name;
      const r = label.getBoundingClientRect();
      const overlaps = kept.some((k) => r.left < k.right + 4 && k.left < r.right + 4
        && r.top < k.bottom + 2 && k.top < r.bottom + 2);
      if (overlaps) places.removeLayer(marker);
      else kept.push(r);
    }
  }

  return map;
}

// Copy and print buttons on the booking page.
document.querySelectorAll("[data-copy]").forEach((button) => {
  button.addEventListener("click", () => {
    const text = document.getElementById(button.dataset.copy).textContent.trim();
    navigator.clipboard && navigator.clipboard.writeText(text);
  });
});
document.querySelectorAll("[data-print]").forEach((button) => {
  button.addEventListener("click", () => window.print());
});

// The rider's booking page: the bus's live estimate, asked for again every minute.
const livePickup = document.getElementById("live-pickup");
if (livePickup) {
  const refresh = async () => {
    const response = await fetch(livePickup.dataset.url, { headers: { Accept: "application/json" } });
    if (!response.ok) return; // a busy server or the rate limit: the next minute will do
    const data = await response.json();
    if (data.live) {
      document.getElementById("live-estimate").textContent = data.live.text;
      document.getElementById("live-note").textContent = data.live.note;
      const late = document.getElementById("live-late");
      late.textContent = data.live.late_text;
      late.hidden = !data.live.late_text;
      if (data.live.arrival_text) {
        document.getElementById("booking-arrival").textContent = data.live.arrival_text;
      }
    }
    livePickup.hidden = !data.live;
    if (!data.poll) clearInterval(timer);
  };
  const timer = setInterval(refresh, Number(livePickup.dataset.every || 60) * 1000);
}
