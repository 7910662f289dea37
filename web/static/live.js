// The dispatcher's live view: draws the live JSON (GET /api/v1/live/<day>) as a map, a table of
// vehicles and the bookings at risk, and polls it. Moves a booking and takes a vehicle out of
// service through the API. No texts of its own: the page hands them over (web/i18n.py).
"use strict";
(function () {
  const config = JSON.parse(document.getElementById("live-config").textContent);
  const T = JSON.parse(document.getElementById("live-texts").textContent);
  const $ = (id) => document.getElementById(id);

  function fmt(text, params) {
    return text.replace(/%\((\w+)\)s/g, (_, k) => (params[k] === undefined ? "" : String(params[k])));
  }

  function el(tag, attrs, ...children) {
    const node = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") node.className = v;
      else if (k === "text") node.textContent = v;
      else if (k.startsWith("data-")) node.setAttribute(k, v);
      else node[k] = v;
    }
    for (const c of children) node.append(c);
    return node;
  }

  function delayText(minutes) {
    return minutes > 0 ? fmt(T.delay, { minutes: "+" + minutes }) : T.on_time;
  }

  function vehicleDelay(v) {
    if (v.status === "out_of_service") return T.out_of_service;
    // a bus not on shift, or done with it, is neither late nor on time
    return v.status === "finished" || v.status === "idle" ? "–" : delayText(v.delay_min);
  }

  function riskText(risk) {
    return risk === "out_of_service" ? T.out_of_service_risk : T[risk];
  }

  // -- the map ------------------------------------------------------------------------------
  const mapEl = $("live-map");
  let map = null;
  let layer = null;
  let fitted = false;
  if (mapEl && window.L) {
    map = L.map(mapEl, { preferCanvas: false }).setView([51.87, 11.6], 10);
    fetch(mapEl.dataset.basemap).then((r) => r.json()).then((data) => {
      L.geoJSON(data, {
        style: (f) => f.properties.kind === "boundary"
          ? { color: "#4a4a4a", weight: 2, fill: false, dashArray: "6 4" }
          : { color: "#9a9a9a", weight: 1 },
      }).addTo(map).bringToBack();
    });
    layer = L.layerGroup().addTo(map);
  }

  function drawMap(data, risky) {
    if (!map) return;
    layer.clearLayers();
    const points = [];
    for (const v of data.vehicles) {
      if (!v.position) continue;
      const here = [v.position.lat, v.position.lon];
      const late = risky.has(v.vehicle) || v.delay_min >= 5;
      const colour = v.status === "out_of_service" || late ? "#a1001a" : "#00507a";
      const label = fmt(T.vehicle_label, { vehicle: v.vehicle, delay: vehicleDelay(v) });
      const marker = L.circleMarker(here, {
        radius: 9, weight: 3, color: colour, fillColor: colour, fillOpacity: 0.9,
      });
      marker.bindTooltip(el("span", { text: label }), {
        permanent: true, direction: "auto", offset: [10, 0], className: "vehicle-label",
      });
      marker.addTo(layer);
      const markerEl = marker.getElement && marker.getElement();
      if (markerEl) markerEl.setAttribute("data-vehicle", v.vehicle);
      points.push(here);
      if (v.next) {
        const there = [v.next.stop.lat, v.next.stop.lon];
        L.polyline([here, there], { color: colour, weight: 2, dashArray: "4 6" }).addTo(layer);
        L.circleMarker(there, { radius: 7, weight: 3, color: colour, fillColor: "#ffffff", fillOpacity: 1 })
          .bindTooltip(el("span", { text: fmt(T.next_stop, { vehicle: v.vehicle, stop: v.next.stop.name }) }))
          .addTo(layer);
        points.push(there);
      }
    }
    mapEl.dataset.markers = String(data.vehicles.filter((v) => v.position).length);
    if (!fitted && points.length) {
      map.fitBounds(L.latLngBounds(points).pad(0.3), { maxZoom: 13 });
      fitted = true;
    }
  }

  // -- the vehicles -------------------------------------------------------------------------
  function nextText(next) {
    if (!next) return "–";
    const what = next.kind === "pickup" ? T.pickup : T.dropoff;
    const when = next.estimate ? fmt(T.estimate, { time: next.estimate }) : "";
    return `${what} ${next.stop.name}${when ? ", " + when : ""}`;
  }

  function drawVehicles(data) {
    const rows = data.vehicles.map((v) => {
      const action = el("td", { "data-label": "" });
      if (v.status !== "out_of_service" && v.status !== "finished") {
        action.append(el("button", {
          type: "button", class: "secondary", text: T.take_out, "data-out": v.vehicle,
          onclick: () => askOut(v.vehicle, data.now),
        }));
      }
      const cells = [
        el("th", { scope: "row", text: v.vehicle }),
        el("td", { text: T[v.status] + (v.out_of_service_since ? " " + v.out_of_service_since : "") }),
        el("td", { text: vehicleDelay(v), class: v.delay_min >= 5 ? "late" : null }),
        el("td", { text: String(v.on_board) }),
        el("td", { text: nextText(v.next) }),
        el("td", { text: v.position ? fmt(T.position_at, { time: v.position.at }) : T.no_position }),
        action,
      ];
      const headers = document.querySelectorAll(".live-vehicles thead th");
      cells.forEach((c, k) => c.setAttribute("data-label", headers[k] ? headers[k].textContent : ""));
      return el("tr", { "data-vehicle": v.vehicle }, ...cells);
    });
    $("vehicle-rows").replaceChildren(...rows);
  }

  // -- bookings at risk ---------------------------------------------------------------------
  function drawRisks(data) {
    const list = $("risk-list");
    if (list.contains(document.activeElement)) return; // the dispatcher is choosing: later
    const out = new Set(data.vehicles.filter((v) => v.status === "out_of_service").map((v) => v.vehicle));
    if (!data.at_risk.length) {
      list.replaceChildren(el("li", { class: "none", text: T.no_risk }));
      return;
    }
    list.replaceChildren(...data.at_risk.map((r) => {
      const item = el("li", { class: "risk", "data-booking": r.code },
        el("p", { class: "risk-what" }, el("strong", { text: riskText(r.risk) }), ` · ${r.vehicle}`),
        el("p", { class: "who" }, el("strong", { text: r.rider }), " ",
          el("a", { href: "tel:" + r.phone.replace(/[^0-9+]/g, ""), text: r.phone })),
        el("p", { text: [
          `${r.kind === "pickup" ? T.pickup : T.dropoff} ${r.stop.name}`,
          fmt(T.window, { from: r.window[0], to: r.window[1] }),
          r.estimate ? fmt(T.estimate, { time: r.estimate }) + (r.delay_min > 0 ? ` (+${r.delay_min} min)` : "") : "",
        ].filter(Boolean).join(" · ") }),
      );
      if (r.kind === "pickup") {
        const id = "move-" + r.code;
        const select = el("select", { id },
          ...config.vehicles.filter((v) => v !== r.vehicle && !out.has(v))
            .map((v) => el("option", { value: v, text: v })));
        const button = el("button", { type: "button", text: T.move, onclick: () => move(r.code, select.value) });
        item.append(el("div", { class: "actions" },
          el("label", { htmlFor: id, text: fmt(T.move_to, { code: r.code }) }), select, button));
      }
      return item;
    }));
  }

  // -- talking to the server ----------------------------------------------------------------
  function post(url, body) {
    return fetch(url, {
      method: "POST",
      // the API says its messages in the page's language when asked
      headers: { "Content-Type": "application/json", "X-CSRFToken": config.csrf, "Accept-Language": config.lang },
      body: JSON.stringify(body),
      credentials: "same-origin",
    }).then((r) => r.json().then((json) => ({ status: r.status, json })));
  }

  function move(code, vehicle) {
    const result = $("move-result");
    post(config.move.replace("{code}", encodeURIComponent(code)), { vehicle }).then(({ status, json }) => {
      if (status === 200) {
        result.className = "flash ok";
        result.textContent = fmt(T.moved, {
          code, vehicle: json.vehicle, pickup: json.estimated_pickup, arrival: json.estimated_arrival,
        });
      } else {
        result.className = "flash error";
        const field = json.error && json.error.field;
        result.textContent = status === 409 && field === "vehicle" ? fmt(T.move_refused, { vehicle })
          : status === 409 && field === "code" ? T.boarded_already
          : fmt(T.failed, { message: json.error ? json.error.message : status });
      }
      document.activeElement.blur();
      refresh();
    });
  }

  let outVehicle = null;
  function askOut(vehicle, now) {
    outVehicle = vehicle;
    $("out-from").value = now;
    $("confirm-out-text").textContent = fmt(T.confirm_out, { vehicle, time: now });
    $("confirm-out").hidden = false;
    $("confirm-out").focus();
  }
  $("out-from").addEventListener("input", () => {
    $("confirm-out-text").textContent = fmt(T.confirm_out, { vehicle: outVehicle, time: $("out-from").value });
  });
  $("confirm-out-no").addEventListener("click", () => { $("confirm-out").hidden = true; });
  $("confirm-out-yes").addEventListener("click", () => {
    const url = config.out_of_service.replace("{vehicle}", encodeURIComponent(outVehicle));
    const from = $("out-from").value;
    post(url, from ? { from } : {}).then(({ status, json }) => {
      $("confirm-out").hidden = true;
      showDisruption(status, json);
      refresh();
    });
  });
  $("disruption-close").addEventListener("click", () => { $("disruption").hidden = true; });

  function showDisruption(status, json) {
    const body = $("disruption-body");
    if (status !== 200) {
      $("disruption-title").textContent = fmt(T.failed, { message: json.error ? json.error.message : status });
      body.replaceChildren();
    } else {
      $("disruption-title").textContent = fmt(T.result_title, { vehicle: json.vehicle, time: json.since });
      const moved = json.moved.length
        ? el("ul", {}, ...json.moved.map((m) => el("li", {
          text: fmt(T.moved_item, { code: m.code, vehicle: m.vehicle, pickup: m.estimated_pickup }),
        })))
        : el("p", { text: T.none_moved });
      const stranded = json.stranded.length
        ? el("ul", { class: "stranded" }, ...json.stranded.map((s) => el("li", { "data-booking": s.code },
          el("strong", { text: s.rider }), " ",
          el("a", { href: "tel:" + s.phone.replace(/[^0-9+]/g, ""), text: s.phone }),
          ` · ${s.code} · `,
          s.on_board ? T.on_board
            : s.alternatives.length ? fmt(T.alternatives, { times: s.alternatives.join(", ") })
              : T.no_alternatives)))
        : el("p", { text: T.stranded_none });
      body.replaceChildren(el("h3", { text: T.stranded_list }), stranded, el("h3", { text: T.moved_list }), moved);
    }
    $("disruption").hidden = false;
    $("disruption").focus();
  }

  // -- polling ------------------------------------------------------------------------------
  function draw(data) {
    const risky = new Set(data.at_risk.map((r) => r.vehicle));
    drawRisks(data);
    drawVehicles(data);
    drawMap(data, risky);
    const clock = new Date().toLocaleTimeString(config.lang === "en" ? "en-GB" : "de-DE");
    $("live-updated").textContent = fmt(T.updated, { clock, time: data.now });
    $("live-updated").className = "hint";
  }

  function refresh() {
    return fetch(config.api, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then((r) => { if (!r.ok) throw new Error(String(r.status)); return r.json(); })
      .then(draw)
      .catch(() => {
        $("live-updated").textContent = fmt(T.update_failed, { seconds: Math.round(config.poll_ms / 1000) });
        $("live-updated").className = "flash error";
      });
  }

  draw(JSON.parse(document.getElementById("live-data").textContent));
  setInterval(refresh, config.poll_ms);
})();
