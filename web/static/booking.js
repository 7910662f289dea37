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

// Map picker: click a stop, then choose whether it is the start or the destination.
const mapElement = document.getElementById("stop-map");
if (mapElement && window.L) {
  const map = L.map(mapElement, { preferCanvas: true }).setView([51.87, 11.6], 10);
  // offline base layer: the project's own network and the district boundary
  fetch(mapElement.dataset.basemap).then((r) => r.json()).then((data) => {
    L.geoJSON(data, {
      style: (f) => f.properties.kind === "boundary"
        ? { color: "#4a4a4a", weight: 2, fill: false, dashArray: "6 4" }
        : { color: "#9a9a9a", weight: 1 },
      interactive: false,
    }).addTo(map);
  });
  fetch(mapElement.dataset.stops).then((r) => r.json()).then((data) => {
    const layer = L.geoJSON(data, {
      pointToLayer: (feature, latlng) => L.circleMarker(latlng, {
        radius: 5, color: "#00507a", weight: 2, fillOpacity: 0.6,
      }),
      onEachFeature: (feature, marker) => {
        const box = document.createElement("div");
        const title = document.createElement("p");
        title.textContent = feature.properties.label;
        box.append(title);
        for (const field of ["origin", "destination"]) {
          const button = document.createElement("button");
          button.type = "button";
          button.className = "secondary";
          button.textContent = mapElement.dataset["label" + field[0].toUpperCase() + field.slice(1)];
          button.addEventListener("click", () => {
            document.getElementById(field).value = feature.properties.label;
            map.closePopup();
            document.getElementById(field).focus();
          });
          box.append(" ", button);
        }
        marker.bindPopup(box);
      },
    }).addTo(map);
    map.fitBounds(layer.getBounds());
    mapElement.dataset.loaded = String(layer.getLayers().length);
  });
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
