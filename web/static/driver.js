// The driver app (web/templates/driver). Every press becomes an event with its own client
// id and the phone's time, kept in a queue in localStorage and shown on the page at once;
// the queue goes to the drivers' API in batches when the network allows (with back-off,
// and at once when the phone is back online). An event leaves the queue only when the
// server answered it: accepted, duplicate (sent before) or rejected (shown with the
// server's message). While on shift, positions go the same way, at most one every 30 s.
// The script has no texts of its own: the page hands them over from web/i18n.py.
"use strict";
(() => {
  const root = document.querySelector("[data-driver]");
  if (!root) return;
  const config = JSON.parse(document.getElementById("driver-config").textContent);
  const texts = JSON.parse(document.getElementById("driver-texts").textContent);
  const onVehiclePage = root.dataset.driver === "vehicle";
  const STORE = "rufbus.driver.v1";
  const TASKS = `rufbus.driver.tasks.${config.vehicle}`;
  const POSITION_EVERY_MS = 30000;
  const BATCH = 50;
  const MAX_POSITIONS = 2000; // about 16 hours of positions without network
  const FINISHED_BY = { pickup: ["boarded", "no_show"], dropoff: ["dropped_off"] };
  const KIND_OF = { boarded: "pickup", no_show: "pickup", dropped_off: "dropoff" };

  const t = (key, values = {}) => texts[key].replace(/%\((\w+)\)s/g, (_, name) => String(values[name]));
  const byId = (id) => document.getElementById(id);

  // ---- time: the service's wall clock ("08:05"), events in ISO 8601 with the offset
  const clockFormat = new Intl.DateTimeFormat("en-GB", {
    timeZone: config.timezone, hour: "2-digit", minute: "2-digit", hourCycle: "h23",
  });
  const dateFormat = new Intl.DateTimeFormat("en-CA", {
    timeZone: config.timezone, year: "numeric", month: "2-digit", day: "2-digit",
  });
  const hhmm = (date) => clockFormat.format(date);
  const minutesOf = (text) => { const [h, m] = text.split(":").map(Number); return h * 60 + m; };
  const clockText = (m) => `${String(Math.floor(m / 60) % 24).padStart(2, "0")}:${String(m % 60).padStart(2, "0")}`;
  // minutes since midnight of the page's service day (after midnight: above 1440)
  const nowMinutes = () => {
    const now = new Date();
    const days = Math.round((Date.parse(dateFormat.format(now)) - Date.parse(config.day)) / 86400000);
    return days * 1440 + minutesOf(hhmm(now));
  };
  const pad = (n) => String(Math.abs(n)).padStart(2, "0");
  const iso = (d) => {
    const offset = -d.getTimezoneOffset();
    return `${d.getFullYear()}-${pad(d.getMonth() + 1)}-${pad(d.getDate())}T${pad(d.getHours())}:` +
      `${pad(d.getMinutes())}:${pad(d.getSeconds())}${offset < 0 ? "-" : "+"}` +
      `${pad(Math.floor(Math.abs(offset) / 60))}:${pad(Math.abs(offset) % 60)}`;
  };
  const uuid = () => (crypto.randomUUID ? crypto.randomUUID()
    : ([1e7] + -1e3 + -4e3 + -8e3 + -1e11).replace(/[018]/g, (c) =>
      (c ^ (crypto.getRandomValues(new Uint8Array(1))[0] & (15 >> (c / 4)))).toString(16)));

  // ---- the queue: {events: [{vehicle, day, time, visit, status, message, event}], positions: [...]}
  const load = () => {
    try {
      const data = JSON.parse(localStorage.getItem(STORE));
      if (data && Array.isArray(data.events) && Array.isArray(data.positions)) return data;
    } catch (err) { /* a broken store starts afresh */ }
    return { events: [], positions: [] };
  };
  const save = (data) => localStorage.setItem(STORE, JSON.stringify(data));
  // older days' answered events are of no use; unsent ones are kept until they are answered
  const pruned = load();
  pruned.events = pruned.events.filter((e) => e.status === "waiting" || e.day === config.day);
  save(pruned);

  let lastFix = null;
  function record(vehicle, kind, fields = {}, visit = null) {
    const now = new Date();
    const event = { client_id: uuid(), kind, at: iso(now), ...fields };
    if (lastFix && Date.now() - lastFix.received < 120000) {
      Object.assign(event, { lat: lastFix.lat, lon: lastFix.lon, accuracy_m: lastFix.accuracy_m });
    }
    const data = load();
    data.events.push({ vehicle, day: config.day, time: hhmm(now), visit, status: "waiting", event });
    save(data);
    if (navigator.vibrate) navigator.vibrate(30);
  }

  // what this phone reported for this vehicle today, answered or not (rejected ones excepted)
  function localState() {
    const state = { tasks: {}, visits: {}, shift: null, shiftEnd: null, pause: null, delay: null, breakdown: null };
    for (const e of load().events) {
      if (e.vehicle !== config.vehicle || e.day !== config.day || e.status === "rejected") continue;
      const kind = e.event.kind;
      if (KIND_OF[kind]) {
        (state.tasks[`${e.event.booking}:${KIND_OF[kind]}`] ||= {})[kind] = e.time;
      } else if (kind === "arrived" || kind === "departed") {
        (state.visits[e.visit] ||= {})[kind] = e.time;
      } else if (kind === "shift_start") {
        [state.shift, state.shiftEnd] = [e.time, null];
      } else if (kind === "shift_end") {
        state.shiftEnd = e.time;
      } else if (kind === "break_start") {
        state.pause = e.time;
      } else if (kind === "break_end") {
        state.pause = null;
      } else if (kind === "delay") {
        state.delay = e.event.minutes;
      } else if (kind === "breakdown") {
        state.breakdown = e.time;
      }
    }
    return state;
  }

  // ---- the server's view of the tasks (fetched, or the last copy when offline)
  let tasks = null; // {data, stale, saved}
  function serverDone() {
    const done = {};
    if (tasks) for (const task of tasks.data.tasks) done[`${task.code}:${task.kind}`] = task.done;
    return done;
  }

  async function refreshTasks() {
    if (!onVehiclePage) return;
    const url = `${config.api}${encodeURIComponent(config.vehicle)}/tasks?day=${config.day}`;
    try {
      const response = await fetch(url, { headers: { Accept: "application/json" } });
      if (response.status === 401) showLogin();
      if (!response.ok) throw new Error(`tasks: ${response.status}`);
      const data = await response.json();
      localStorage.setItem(TASKS, JSON.stringify({ saved: hhmm(new Date()), data }));
      tasks = { data, stale: false };
    } catch (err) {
      const stored = JSON.parse(localStorage.getItem(TASKS) || "null");
      if (stored && stored.data.day === config.day) tasks = { data: stored.data, stale: true, saved: stored.saved };
    }
    render();
  }

  // ---- showing the state
  function renderOutbox() {
    const data = load();
    const waiting = data.events.filter((e) => e.status === "waiting").length;
    const outbox = byId("outbox");
    outbox.textContent = waiting === 0 ? t("all_sent")
      : waiting === 1 ? t("waiting_one") : t("waiting_many", { count: waiting });
    outbox.classList.toggle("waiting", waiting > 0);
    const rejected = data.events.filter((e) => e.status === "rejected");
    byId("rejected").hidden = rejected.length === 0;
    byId("driver-status").classList.toggle("alert", waiting > 0 || rejected.length > 0);
    byId("rejected-list").replaceChildren(...rejected.map((e) => {
      const item = document.createElement("li");
      item.textContent = `${e.time} ${e.vehicle}${e.event.booking ? ` ${e.event.booking}` : ""}: ${e.message}`;
      return item;
    }));
  }

  function show(element, text) {
    element.textContent = text || "";
  }

  function renderVisits(local) {
    const server = serverDone();
    const wait = tasks ? Number(tasks.data.no_show_wait_min) : Number(root.dataset.waitMin);
    const now = nowMinutes();
    const sections = [...document.querySelectorAll("[data-visit]")];
    const states = sections.map((section) => {
      const own = local.visits[section.dataset.visit] || {};
      const taskStates = [...section.querySelectorAll("[data-task]")].map((el) => {
        const from = server[el.dataset.task] || {};
        const mine = local.tasks[el.dataset.task] || {};
        const field = (key, attr) => from[key] || el.dataset[attr] || mine[key] || null;
        const done = {
          boarded: field("boarded", "boarded"),
          no_show: field("no_show", "noShow"),
          dropped_off: field("dropped_off", "droppedOff"),
        };
        return { el, done, arrived: from.arrived, departed: from.departed,
          finished: FINISHED_BY[el.dataset.kind].some((k) => done[k]) };
      });
      return {
        section, taskStates,
        arrived: section.dataset.arrived || taskStates.map((s) => s.arrived).find(Boolean) || own.arrived || null,
        departed: section.dataset.departed || taskStates.map((s) => s.departed).find(Boolean) || own.departed || null,
        finished: taskStates.every((s) => s.finished),
      };
    });
    const lastArrival = states.reduce((last, s, k) => (s.arrived ? k : last), -1);
    const doneBox = byId("done-visits");
    const list = byId("visits");
    let doneCount = 0;
    let next = null;
    states.forEach((s, k) => {
      const done = s.finished && (Boolean(s.departed) || k < lastArrival);
      s.section.dataset.order ||= String(k);
      if (done) {
        doneCount += 1;
        if (s.section.parentElement !== doneBox) doneBox.append(s.section);
      } else {
        next ||= s.section;
        if (s.section.parentElement !== list) {
          const after = [...list.children].find((c) => Number(c.dataset.order) > k);
          list.insertBefore(s.section, after || null);
        }
      }
      s.section.classList.toggle("finished", s.finished);
      s.section.querySelector('[data-action="arrived"]').hidden = Boolean(s.arrived);
      show(s.section.querySelector('[data-show="arrived"]'), s.arrived && t("arrived", { time: s.arrived }));
      s.section.querySelector('[data-action="departed"]').hidden = !s.arrived || Boolean(s.departed);
      show(s.section.querySelector('[data-show="departed"]'), s.departed && t("departed", { time: s.departed }));
      for (const task of s.taskStates) renderTask(task, s.arrived, wait, now);
    });
    for (const s of states) s.section.classList.toggle("next", s.section === next);
    doneBox.hidden = doneCount === 0;
    show(byId("done-summary"), doneCount === 1 ? t("done_one") : t("done_many", { count: doneCount }));
    const noMore = byId("no-more");
    if (noMore) noMore.hidden = next !== null;
  }

  function renderTask(task, arrived, wait, now) {
    const { el, done, finished } = task;
    el.querySelector(".task-actions").hidden = finished;
    const kind = ["boarded", "no_show", "dropped_off"].find((k) => done[k]);
    show(el.querySelector('[data-show="task"]'), kind && t(kind, { time: done[kind] }));
    const noShow = el.querySelector('[data-action="no_show"]');
    if (!noShow) return;
    // the server's rule (planner/live/intake.py): the wait after arriving has passed and
    // the pickup window has started
    let lock = "";
    if (!arrived) {
      lock = t("no_show_after_arrival");
    } else {
      const from = Math.max(minutesOf(arrived) + wait, minutesOf(el.dataset.windowStart));
      if (now < from) lock = t("no_show_from", { time: clockText(from) });
    }
    noShow.disabled = lock !== "";
    show(el.querySelector(".lock"), lock);
  }

  function renderShift(local) {
    const onShift = Boolean(local.shift) && !local.shiftEnd;
    root.querySelector('[data-action="shift_start"]').hidden = onShift;
    let state = "";
    if (local.shiftEnd) state = t("shift_ended", { time: local.shiftEnd });
    else if (local.pause) state = t("on_break", { time: local.pause });
    else if (local.shift) state = t("on_shift", { time: local.shift });
    show(byId("shift-state"), state);
    root.querySelector('[data-action="break_start"]').hidden = Boolean(local.pause);
    root.querySelector('[data-action="break_end"]').hidden = !local.pause;
    show(byId("delay-state"), local.delay && t("delay_sent", { minutes: local.delay }));
    show(byId("breakdown-state"), local.breakdown && t("breakdown_sent", { time: local.breakdown }));
    watchPositions(onShift);
  }

  function render() {
    renderOutbox();
    if (!onVehiclePage) return;
    const local = localState();
    renderVisits(local);
    renderShift(local);
    const changed = tasks && !tasks.stale && String(tasks.data.version) !== root.dataset.version;
    byId("plan-changed").hidden = !changed;
    if (changed) show(byId("plan-changed-text"), t("plan_changed"));
    const notice = byId("notice");
    notice.hidden = !(tasks && tasks.stale);
    if (tasks && tasks.stale) show(notice, t("stored_list", { time: tasks.saved }));
  }

  function showLogin() {
    byId("login-needed").hidden = false;
    show(byId("login-link"), t("log_in"));
  }

  // ---- sending
  let csrf = config.csrf;
  async function refreshToken() {
    const response = await fetch(config.token_url, { headers: { Accept: "application/json" } });
    if (response.ok) csrf = (await response.json()).csrf_token;
  }

  async function post(url, body) {
    for (let attempt = 0; ; attempt += 1) {
      const response = await fetch(url, {
        method: "POST",
        headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
        body: JSON.stringify(body),
      });
      if (response.status === 403 && attempt === 0) {
        // the page's token expires after an hour; a fresh one is one request away
        const answer = await response.clone().json().catch(() => ({}));
        if (answer.error && answer.error.field === "csrf") { await refreshToken(); continue; }
      }
      return response;
    }
  }

  // the answer's ids: plain client ids, or objects carrying one
  const ids = (list) => new Set((list || []).map((x) => (typeof x === "string" ? x : x.client_id)));

  // Send one batch of ``channel`` ("events" or "positions") of ``vehicle``; false if none waits.
  async function sendBatch(vehicle, channel) {
    const waiting = channel === "events"
      ? load().events.filter((e) => e.vehicle === vehicle && e.status === "waiting").map((e) => e.event)
      : load().positions.filter((p) => p.vehicle === vehicle).map((p) => p.position);
    if (waiting.length === 0) return false;
    const batch = waiting.slice(0, BATCH);
    const response = await post(`${config.api}${encodeURIComponent(vehicle)}/${channel}`, { [channel]: batch });
    if (response.status === 401) { showLogin(); throw new Error("log in"); }
    const answer = await response.json().catch(() => ({}));
    let answered;
    if (response.ok) {
      answered = { ok: ids([...(answer.accepted || []), ...(answer.duplicates || [])]), rejected: new Map() };
      for (const r of answer.rejected || []) answered.rejected.set(r.client_id, `${r.field}: ${r.message}`);
    } else if ([400, 403, 404, 413, 422].includes(response.status)) {
      // the server refuses the batch as such; resending it would never help
      const message = answer.error ? `${answer.error.field}: ${answer.error.message}` : String(response.status);
      answered = { ok: new Set(), rejected: new Map(batch.map((item) => [item.client_id, message])) };
    } else {
      throw new Error(`${channel}: ${response.status}`);
    }
    const data = load(); // presses may have been added while the batch was under way
    if (channel === "events") {
      for (const e of data.events) {
        if (answered.ok.has(e.event.client_id)) e.status = "stored";
        else if (answered.rejected.has(e.event.client_id)) {
          [e.status, e.message] = ["rejected", answered.rejected.get(e.event.client_id)];
        }
      }
    } else {
      data.positions = data.positions.filter((p) =>
        !answered.ok.has(p.position.client_id) && !answered.rejected.has(p.position.client_id));
    }
    save(data);
    const unanswered = batch.filter((item) => !answered.ok.has(item.client_id) && !answered.rejected.has(item.client_id));
    if (unanswered.length) throw new Error(`${channel}: ${unanswered.length} not answered`);
    return true;
  }

  let failures = 0;
  let timer = null;
  let sending = false;
  function flushSoon(delay = 0) {
    clearTimeout(timer);
    timer = setTimeout(flush, delay);
  }
  async function flush() {
    if (sending) return;
    sending = true;
    let sent = false;
    try {
      const data = load();
      const vehicles = new Set([
        ...data.events.filter((e) => e.status === "waiting").map((e) => e.vehicle),
        ...data.positions.map((p) => p.vehicle),
      ]);
      for (const vehicle of vehicles) {
        while (await sendBatch(vehicle, "events")) sent = true;
        while (await sendBatch(vehicle, "positions")) { /* until none waits */ }
      }
      failures = 0;
      byId("login-needed").hidden = true;
    } catch (err) {
      failures += 1;
      // 2, 4, 8 ... s, at most a minute; the ``online`` event cuts the wait short
      flushSoon(Math.min(60000, 1000 * 2 ** Math.min(failures, 6)));
    } finally {
      sending = false;
    }
    render();
    if (sent) refreshTasks();
  }

  // ---- positions while on shift
  let watchId = null;
  let lastSent = 0;
  function watchPositions(onShift) {
    if (!navigator.geolocation) return;
    if (onShift && watchId === null) {
      watchId = navigator.geolocation.watchPosition(onFix, () => {
        byId("notice").hidden = false;
        show(byId("notice"), t("no_position"));
      }, { enableHighAccuracy: true, maximumAge: 15000, timeout: 60000 });
    } else if (!onShift && watchId !== null) {
      navigator.geolocation.clearWatch(watchId);
      watchId = null;
    }
  }
  function onFix(position) {
    const { latitude: lat, longitude: lon, accuracy } = position.coords;
    lastFix = { lat, lon, accuracy_m: Math.round(accuracy), received: Date.now() };
    if (Date.now() - lastSent < POSITION_EVERY_MS) return;
    lastSent = Date.now();
    const data = load();
    // the phone's clock, like the events' (the fix's own timestamp may come from elsewhere)
    data.positions.push({
      vehicle: config.vehicle,
      position: { client_id: uuid(), at: iso(new Date()), lat, lon, accuracy_m: lastFix.accuracy_m },
    });
    if (data.positions.length > MAX_POSITIONS) data.positions.splice(0, data.positions.length - MAX_POSITIONS);
    save(data);
    flushSoon(0);
  }

  // ---- the buttons
  function press(kind, fields = {}, visit = null, vehicle = config.vehicle) {
    record(vehicle, kind, fields, visit);
    if (kind === "shift_end") localStorage.removeItem(TASKS); // riders' names leave the phone
    render();
    flushSoon(0);
  }

  root.addEventListener("click", (ev) => {
    const button = ev.target.closest("button");
    if (!button || button.disabled) return;
    if (button.dataset.confirm) { byId(button.dataset.confirm).hidden = false; return; }
    if (button.dataset.cancel) { byId(button.dataset.cancel).hidden = true; return; }
    const action = button.dataset.action;
    if (action === "dismiss") {
      const data = load();
      data.events = data.events.filter((e) => e.status !== "rejected");
      save(data);
      render();
      return;
    }
    if (!action) return;
    const section = button.closest("[data-visit]");
    const task = button.closest("[data-task]");
    const fields = {};
    if (section) fields.stop = Number(section.dataset.stop);
    if (task) fields.booking = task.dataset.booking;
    const confirm = button.closest(".confirm");
    if (confirm) confirm.hidden = true;
    press(action, fields, section ? section.dataset.visit : null);
  });

  const delayForm = root.querySelector("form.delay-form");
  if (delayForm) {
    delayForm.addEventListener("submit", (ev) => {
      ev.preventDefault();
      const minutes = Number(delayForm.elements.minutes.value);
      if (Number.isInteger(minutes) && minutes > 0) press("delay", { minutes });
    });
  }

  window.addEventListener("online", () => { failures = 0; flushSoon(0); refreshTasks(); });
  setInterval(render, 5000); // the no-show countdown
  setInterval(refreshTasks, 60000);
  if ("serviceWorker" in navigator && config.worker) {
    // read before the worker claims this page: did the page come through it (and is kept)?
    const cameThroughWorker = navigator.serviceWorker.controller !== null;
    navigator.serviceWorker.register(config.worker)
      .then(() => navigator.serviceWorker.ready)
      .then((registration) => {
        if (cameThroughWorker || !registration.active) return;
        const files = [...document.querySelectorAll("script[src], link[rel=stylesheet][href]")]
          .map((el) => el.src || el.href);
        registration.active.postMessage({ keep: [location.href, ...files] });
      })
      .catch(() => { /* works without, only not reloadable offline */ });
  }
  // The vehicle list links here with "#start": the shift starts on this page, so it starts
  // even when the driver tapped before the list's script had run (a slow network).
  if (onVehiclePage && location.hash === "#start") {
    const local = localState();
    if (!local.shift || local.shiftEnd) record(config.vehicle, "shift_start");
    history.replaceState(null, "", location.pathname + location.search); // a reload: no new shift
  }
  render();
  refreshTasks();
  flushSoon(0);
})();
