/* The tablet training log: one form that builds a JSON body and posts it to /api/sessions.
   Every save first goes into IndexedDB with a client-made UUID, so a session typed without
   a connection (or whose reply was lost) waits on the tablet and uploads by itself later.
   The server dedupes by that UUID; a session it rejects stays here with its message. */
(function () {
  "use strict";
  var root = document.getElementById("training-app");
  if (!root) return;
  var boot = JSON.parse(document.getElementById("training-data").textContent);
  var URLS = root.dataset;
  var MODE = boot.mode;
  var TOP = 6;
  var DB_NAME = "esd-training";
  var STORE = "outbox";
  var DRAFT_KEY = "esd-training-draft-" + boot.user_id;
  var VOCAB_KEY = "esd-training-vocab";
  var LABELS = {
    height: { floor: "Floor", low: "Low", mid: "Mid", high: "High", overhead: "Overhead" },
    concealment: { open: "Open", concealed: "Concealed", buried: "Buried", layered: "Layered" },
    wind: { calm: "Calm", light: "Light", moderate: "Moderate", strong: "Strong" },
    precipitation: { none: "None", rain: "Rain", snow: "Snow", fog: "Fog" },
  };
  var vocab = null;
  var state = null;
  var expanded = {};      // which choice lists show all their terms ("h3.device_type_id": true)
  var openHides = {};     // hide cards shown in full; the others are one summary line each
  var syncing = false;
  var errors = [];        // the errors shown now ({field, error}); drawn again after every render

  // ------------------------------------------------------------------ helpers
  function $(sel, el) { return (el || document).querySelector(sel); }
  function $all(sel, el) { return Array.prototype.slice.call((el || document).querySelectorAll(sel)); }
  function esc(value) {
    return String(value == null ? "" : value).replace(/[&<>"']/g, function (c) {
      return { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" }[c];
    });
  }
  function uuid4() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    var b = new Uint8Array(16); crypto.getRandomValues(b);
    b[6] = (b[6] & 0x0f) | 0x40; b[8] = (b[8] & 0x3f) | 0x80;
    var h = Array.prototype.map.call(b, function (x) { return ("0" + x.toString(16)).slice(-2); }).join("");
    return h.slice(0, 8) + "-" + h.slice(8, 12) + "-" + h.slice(12, 16) + "-" + h.slice(16, 20) + "-" + h.slice(20);
  }
  function plural(n, word) { return n + " " + word + (n === 1 ? "" : "s"); }
  function dogById(id) { return boot.dogs.filter(function (d) { return String(d.id) === String(id); })[0]; }
  function termName(list, id) {
    var t = (list || []).filter(function (x) { return String(x.id) === String(id); })[0];
    return t ? t.name : "";
  }
  function nowLocal(tz) {
    var parts = {};
    try {
      new Intl.DateTimeFormat("en-CA", { timeZone: tz || undefined, year: "numeric", month: "2-digit",
        day: "2-digit", hour: "2-digit", minute: "2-digit", hourCycle: "h23" })
        .formatToParts(new Date()).forEach(function (p) { parts[p.type] = p.value; });
    } catch (e) {
      var d = new Date();
      parts = { year: d.getFullYear(), month: ("0" + (d.getMonth() + 1)).slice(-2), day: ("0" + d.getDate()).slice(-2),
        hour: ("0" + d.getHours()).slice(-2), minute: ("0" + d.getMinutes()).slice(-2) };
    }
    return { date: parts.year + "-" + parts.month + "-" + parts.day, time: parts.hour + ":" + parts.minute };
  }
  function numberOrNull(v) { return v === "" || v == null ? null : Number(v); }
  // Temperatures are typed in the dog's agency's unit and sent in °C, as they are stored.
  function temperatureUnit(dogId) { var d = dogById(dogId); return (d && d.temperature_unit) || "C"; }
  function toCelsius(v, unit) { return v == null || unit !== "F" ? v : (v - 32) * 5 / 9; }
  function fromCelsius(v, unit) { return unit !== "F" ? v : Math.round((v * 9 / 5 + 32) * 10) / 10; }

  // ------------------------------------------------------------------ IndexedDB outbox
  function openDb() {
    return new Promise(function (resolve, reject) {
      var req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_uuid" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }
  function withStore(mode, fn) {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        var tx = db.transaction(STORE, mode);
        var result = fn(tx.objectStore(STORE));
        tx.oncomplete = function () { db.close(); resolve(result && result.result !== undefined ? result.result : result); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }
  function outboxAll() { return withStore("readonly", function (s) { return s.getAll(); }); }
  function outboxPut(item) { return withStore("readwrite", function (s) { s.put(item); }); }
  function outboxDelete(id) { return withStore("readwrite", function (s) { s.delete(id); }); }

  // ------------------------------------------------------------------ server
  function getCsrf() {
    return fetch(URLS.csrfUrl, { credentials: "same-origin", cache: "no-store", headers: { Accept: "application/json" } })
      .then(function (r) {
        if (r.status === 401) { var e = new Error("login"); e.login = true; throw e; }
        if (!r.ok) throw new Error("csrf " + r.status);
        return r.json();
      }).then(function (data) { return data.csrf_token; });
  }
  function send(method, url, body, token) {
    return fetch(url, {
      method: method, credentials: "same-origin", cache: "no-store",
      headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": token },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().catch(function () { return { error: "The server answered " + r.status + "." }; })
        .then(function (data) { return { status: r.status, data: data }; });
    });
  }
  function detailUrl(id) { return URLS.detailUrl.replace(/\/0$/, "/" + id); }

  // ------------------------------------------------------------------ state
  function blankHide() {
    return { device_type_id: null, hiding_spot_id: null, height: null, concealment: null, aid_set_minutes: "",
             blind: false, outcome: null, seconds_to_find: "" };
  }
  function freshState(keep) {
    var dogId = keep && keep.dog_id || boot.default_dog_id || (new URLSearchParams(location.search)).get("dog_id") || "";
    var dog = dogById(dogId);
    var now = nowLocal(dog && dog.tz);
    return { client_uuid: uuid4(), dog_id: dog ? String(dog.id) : "", handler_id: defaultHandler(dog),
             date: now.date, time: now.time, duration_minutes: "", location: "", environment_id: "",
             purpose: null, temperature_c: "", wind: null, precipitation: null, blank_areas: 0, notes: "",
             hides: [], false_alerts: [], reason: "" };
  }
  function defaultHandler(dog) {
    if (boot.role === "handler") return boot.own_handler_id ? String(boot.own_handler_id) : "";
    return dog && dog.handler_id ? String(dog.handler_id) : "";
  }
  function stateFromBody(body) {
    var parts = String(body.started_at || "").split("T");
    return {
      client_uuid: body.client_uuid || uuid4(), dog_id: String(body.dog_id || ""),
      handler_id: body.handler_id ? String(body.handler_id) : "", date: parts[0] || "", time: (parts[1] || "").slice(0, 5),
      duration_minutes: body.duration_minutes == null ? "" : body.duration_minutes, location: body.location || "",
      environment_id: body.environment_id ? String(body.environment_id) : "", purpose: body.purpose || null,
      temperature_c: body.temperature_c == null ? "" : fromCelsius(body.temperature_c, temperatureUnit(body.dog_id)),
      wind: body.wind || null,
      precipitation: body.precipitation || null, blank_areas: body.blank_areas || 0, notes: body.notes || "",
      hides: (body.hides || []).map(function (h) {
        return { device_type_id: h.device_type_id, hiding_spot_id: h.hiding_spot_id, height: h.height || null,
                 concealment: h.concealment || null, aid_set_minutes: h.aid_set_minutes == null ? "" : h.aid_set_minutes,
                 blind: !!h.blind, outcome: h.outcome || null, seconds_to_find: h.seconds_to_find == null ? "" : h.seconds_to_find };
      }),
      false_alerts: (body.false_alerts || []).map(function (f) {
        return { hiding_spot_id: f.hiding_spot_id || null, location_note: f.location_note || "", note: f.note || "" };
      }),
      reason: body.reason || "",
    };
  }
  function buildBody() {
    return {
      client_uuid: state.client_uuid, dog_id: numberOrNull(state.dog_id), handler_id: numberOrNull(state.handler_id),
      started_at: state.date && state.time ? state.date + "T" + state.time : "",
      duration_minutes: numberOrNull(state.duration_minutes), location: state.location,
      environment_id: numberOrNull(state.environment_id), purpose: state.purpose,
      temperature_c: toCelsius(numberOrNull(state.temperature_c), temperatureUnit(state.dog_id)),
      wind: state.wind, precipitation: state.precipitation,
      blank_areas: numberOrNull(state.blank_areas) || 0, notes: state.notes,
      hides: state.hides.map(function (h) {
        return { device_type_id: h.device_type_id, hiding_spot_id: h.hiding_spot_id, height: h.height,
                 concealment: h.concealment, aid_set_minutes: numberOrNull(h.aid_set_minutes), blind: !!h.blind,
                 outcome: h.outcome, seconds_to_find: h.outcome === "found" ? numberOrNull(h.seconds_to_find) : null };
      }),
      false_alerts: state.false_alerts.map(function (f) {
        return { hiding_spot_id: f.hiding_spot_id, location_note: f.location_note, note: f.note };
      }),
      reason: MODE === "edit" ? state.reason : undefined,
    };
  }
  function saveDraft() {
    if (MODE !== "new") return;
    try { localStorage.setItem(DRAFT_KEY, JSON.stringify(state)); } catch (e) { /* storage full: the outbox still works */ }
  }
  function clearDraft() { try { localStorage.removeItem(DRAFT_KEY); } catch (e) { /* ignore */ } }

  // The same rules as the server, so a session typed offline is right before it waits.
  function clientCheck(body) {
    var errors = [];
    function bad(field, error) { errors.push({ field: field, error: error }); }
    if (!body.dog_id) bad("dog_id", "Choose the dog.");
    if (boot.role !== "handler" && !body.handler_id) bad("handler_id", "Choose the handler.");
    if (!body.started_at) bad("started_at", "Enter the date and start time.");
    else {
      var dog = dogById(body.dog_id), now = nowLocal(dog && dog.tz);
      var limit = new Date(Date.parse(now.date + "T" + now.time + ":00Z") + 5 * 60000).toISOString().slice(0, 16);
      if (body.started_at > limit) bad("started_at", "The start cannot be in the future.");
    }
    if (MODE === "edit" && boot.reason_required && !String(body.reason || "").trim()) bad("reason", "Give a reason for changing this session.");
    // Lengths, ranges, choices and required fields: the server's own limits (limits.js).
    var marked = errors.map(function (e) { return e.field; });
    return errors.concat(window.ESDSessionLimits.check(body).filter(function (e) { return marked.indexOf(e.field) === -1; }));
  }

  // ------------------------------------------------------------------ rendering
  function choiceButtons(key, values, labels, selected, extra) {
    return values.map(function (v) {
      var on = String(selected) === String(v);
      return '<button type="button" class="btn btn-touch ' + (on ? "btn-primary" : "btn-outline-primary") + '" aria-pressed="' + on +
        '" data-choice="' + key + '" data-value="' + esc(v) + '"' + (extra || "") + ">" + esc(labels[v] || v) + "</button>";
    }).join("");
  }
  // A choice group is named by its card's title and its field ("Hide 2 Device type"), so a
  // screen reader says which hide a "USB drive" button belongs to.
  function termButtons(scope, key, list, selected, attrs, labelledby) {
    var id = scope + "." + key;
    var top = list.slice(0, TOP);
    var rest = list.slice(TOP);
    var showAll = expanded[id];
    var chosenInRest = rest.filter(function (t) { return String(t.id) === String(selected); })[0];
    var html = '<div class="choice-grid" role="group" aria-labelledby="' + labelledby + '">';
    var shown = showAll ? list : top.concat(chosenInRest ? [chosenInRest] : []);
    shown.forEach(function (t) {
      var on = String(t.id) === String(selected);
      html += '<button type="button" class="btn btn-touch ' + (on ? "btn-primary" : "btn-outline-primary") + '" aria-pressed="' + on +
        '" data-key="' + key + '" data-value="' + t.id + '"' + attrs + ">" + esc(t.name) + "</button>";
    });
    if (rest.length) {
      html += '<button type="button" class="btn btn-touch btn-light border" data-action="expand" data-expand="' + id + '">' +
        (showAll ? "Fewer" : "More… (" + rest.length + ")") + "</button>";
    }
    return html + "</div>";
  }
  function hideCard(h, i) {
    var attrs = ' data-hide="' + i + '"';
    if (!openHides[i]) return hideLine(h, i, attrs);
    var status = h.outcome === "found" ? '<span class="badge text-bg-success">Found</span>'
      : h.outcome === "missed" ? '<span class="badge text-bg-danger">Missed</span>' : '<span class="badge text-bg-warning">No outcome</span>';
    function simple(key, labels) {
      return Object.keys(labels).map(function (v) {
        var on = h[key] === v;
        return '<button type="button" class="btn btn-touch ' + (on ? "btn-secondary" : "btn-outline-secondary") + '" aria-pressed="' + on +
          '" data-key="' + key + '" data-value="' + v + '"' + attrs + ">" + labels[v] + "</button>";
      }).join("");
    }
    return '<div class="card mb-3 hide-card" data-test="hide-card" data-index="' + i + '">' +
      '<div class="card-header d-flex align-items-center gap-2"><strong id="hide-' + i + '-title">Hide ' + (i + 1) + "</strong> " + status +
      ' <span class="text-muted small text-truncate">' + esc(termName(vocab.device_types, h.device_type_id)) +
      (h.hiding_spot_id ? " · " + esc(termName(vocab.hiding_spots, h.hiding_spot_id)) : "") + "</span>" +
      '<div class="ms-auto d-flex gap-2"><button type="button" class="btn btn-outline-secondary" data-action="copy-hide"' + attrs + '><i class="bi bi-copy"></i> Copy</button>' +
      '<button type="button" class="btn btn-outline-danger" data-action="remove-hide"' + attrs + ' aria-label="Remove hide ' + (i + 1) + '"><i class="bi bi-trash"></i></button></div></div>' +
      '<div class="card-body">' +
      '<div class="mb-3" data-field="hides[' + i + '].device_type_id">' + fieldLabel(i, "device_type_id", "Device type") +
      termButtons("h" + i, "device_type_id", vocab.device_types, h.device_type_id, attrs, groupLabel(i, "device_type_id")) + "</div>" +
      '<div class="mb-3" data-field="hides[' + i + '].hiding_spot_id">' + fieldLabel(i, "hiding_spot_id", "Hiding spot") +
      termButtons("h" + i, "hiding_spot_id", vocab.hiding_spots, h.hiding_spot_id, attrs, groupLabel(i, "hiding_spot_id")) + "</div>" +
      '<div class="row g-3 mb-3"><div class="col-12 col-md-7" data-field="hides[' + i + '].height">' + fieldLabel(i, "height", "Height") +
      '<div class="choice-grid" role="group" aria-labelledby="' + groupLabel(i, "height") + '">' +
      simple("height", LABELS.height) + '</div></div><div class="col-12 col-md-5" data-field="hides[' + i + '].concealment">' + fieldLabel(i, "concealment", "Concealment") +
      '<div class="choice-grid" role="group" aria-labelledby="' + groupLabel(i, "concealment") + '">' +
      simple("concealment", LABELS.concealment) + "</div></div></div>" +
      '<div class="row g-3 mb-3"><div class="col-6" data-field="hides[' + i + '].aid_set_minutes"><label class="fw-semibold mb-1" for="aid-' + i + '">Aid set (minutes)</label>' +
      '<input class="form-control form-control-lg" type="number" inputmode="numeric" min="0" id="aid-' + i + '" data-hide-input="aid_set_minutes"' + attrs + ' value="' + esc(h.aid_set_minutes) + '"></div>' +
      '<div class="col-6" data-field="hides[' + i + '].blind">' + fieldLabel(i, "blind", "Handler knew?") +
      '<div class="choice-grid" role="group" aria-labelledby="' + groupLabel(i, "blind") + '">' +
      '<button type="button" class="btn btn-touch ' + (h.blind ? "btn-secondary" : "btn-outline-secondary") + '" aria-pressed="' + !!h.blind + '" data-key="blind" data-value="1"' + attrs + ">Blind</button>" +
      '<button type="button" class="btn btn-touch ' + (!h.blind ? "btn-secondary" : "btn-outline-secondary") + '" aria-pressed="' + !h.blind + '" data-key="blind" data-value="0"' + attrs + ">Known</button></div></div></div>" +
      '<div class="row g-3"><div class="col-12 col-md-7" data-field="hides[' + i + '].outcome">' + fieldLabel(i, "outcome", "Outcome") +
      '<div class="d-flex gap-2" role="group" aria-labelledby="' + groupLabel(i, "outcome") + '">' +
      '<button type="button" class="btn btn-touch flex-fill ' + (h.outcome === "found" ? "btn-success" : "btn-outline-success") + '" aria-pressed="' + (h.outcome === "found") + '" data-key="outcome" data-value="found"' + attrs + ' data-test="found"><i class="bi bi-check-lg" aria-hidden="true"></i> Found</button>' +
      '<button type="button" class="btn btn-touch flex-fill ' + (h.outcome === "missed" ? "btn-danger" : "btn-outline-danger") + '" aria-pressed="' + (h.outcome === "missed") + '" data-key="outcome" data-value="missed"' + attrs + ' data-test="missed"><i class="bi bi-x-lg" aria-hidden="true"></i> Missed</button></div></div>' +
      '<div class="col-12 col-md-5" data-field="hides[' + i + '].seconds_to_find"><label class="fw-semibold mb-1" for="secs-' + i + '">Seconds to find</label>' +
      '<input class="form-control form-control-lg" type="number" inputmode="numeric" min="0" max="7200" id="secs-' + i + '" data-hide-input="seconds_to_find"' + attrs +
      ' value="' + esc(h.seconds_to_find) + '"' + (h.outcome === "missed" ? " disabled" : "") + "></div></div>" +
      "</div></div>";
  }
  function hideLine(h, i, attrs) {
    var status = h.outcome === "found" ? '<span class="badge text-bg-success">Found</span>'
      : h.outcome === "missed" ? '<span class="badge text-bg-danger">Missed</span>' : '<span class="badge text-bg-warning">No outcome</span>';
    var bits = [termName(vocab.device_types, h.device_type_id) || "no device", termName(vocab.hiding_spots, h.hiding_spot_id) || "no spot"];
    if (h.height) bits.push(h.height);
    bits.push(h.blind ? "blind" : "known");
    if (h.outcome === "found" && h.seconds_to_find !== "") bits.push(h.seconds_to_find + " s");
    return '<div class="card mb-2 hide-card hide-line" data-test="hide-card" data-index="' + i + '">' +
      '<button type="button" class="btn btn-light text-start d-flex align-items-center gap-2 w-100 btn-touch" data-action="open-hide"' + attrs + ">" +
      "<strong>Hide " + (i + 1) + "</strong> " + status + ' <span class="text-truncate">' + esc(bits.join(" · ")) + "</span>" +
      '<i class="bi bi-pencil ms-auto"></i></button></div>';
  }
  function fieldLabel(i, key, text) { return '<div class="fw-semibold mb-1" id="h' + i + "-" + key + '-label">' + text + "</div>"; }
  function groupLabel(i, key) { return "hide-" + i + "-title h" + i + "-" + key + "-label"; }
  function openOnly(i) { openHides = {}; openHides[i] = true; }
  function alertCard(f, i) {
    var attrs = ' data-alert="' + i + '"';
    return '<div class="card mb-3 border-danger alert-card" data-test="alert-card">' +
      '<div class="card-header d-flex align-items-center"><strong id="alert-' + i + '-title">False alert ' + (i + 1) + "</strong>" +
      '<button type="button" class="btn btn-outline-danger ms-auto" data-action="remove-alert"' + attrs + ' aria-label="Remove false alert ' + (i + 1) + '"><i class="bi bi-trash"></i></button></div>' +
      '<div class="card-body"><div class="mb-3" data-field="false_alerts[' + i + '].hiding_spot_id"><div class="fw-semibold mb-1" id="alert-' + i + '-spot-label">Where the dog indicated (hiding-spot category)</div>' +
      termButtons("a" + i, "hiding_spot_id", vocab.hiding_spots, f.hiding_spot_id, attrs, "alert-" + i + "-title alert-" + i + "-spot-label") + "</div>" +
      '<div class="row g-3"><div class="col-12 col-md-6" data-field="false_alerts[' + i + '].location_note"><label class="fw-semibold mb-1" for="aloc-' + i + '">Location</label>' +
      '<input class="form-control form-control-lg" id="aloc-' + i + '" maxlength="200" data-alert-input="location_note"' + attrs + ' value="' + esc(f.location_note) + '" placeholder="e.g. kitchen, left drawer"></div>' +
      '<div class="col-12 col-md-6" data-field="false_alerts[' + i + '].note"><label class="fw-semibold mb-1" for="anote-' + i + '">Note</label>' +
      '<input class="form-control form-control-lg" id="anote-' + i + '" data-alert-input="note"' + attrs + ' value="' + esc(f.note) + '"></div></div></div></div>';
  }
  function renderLists() {
    $("#hides").innerHTML = state.hides.length ? state.hides.map(hideCard).join("")
      : '<p class="text-muted">No hides yet. Blank searches count too: add the blank areas below.</p>';
    $("#false-alerts").innerHTML = state.false_alerts.map(alertCard).join("");
    renderSummary();
    drawErrors();
    rove();
  }
  function renderSummary() {
    var total = state.hides.length;
    var found = state.hides.filter(function (h) { return h.outcome === "found"; }).length;
    var missed = state.hides.filter(function (h) { return h.outcome === "missed"; }).length;
    // Counts only: the find rate (with its count and interval) is the server's rule (esd/rates.py) and
    // shows on the saved session's page, not as a bare percentage worked out here.
    $("#live-summary").innerHTML = '<div class="d-flex flex-wrap gap-4 justify-content-around text-center">' +
      [["Hides", total], ["Found", found], ["Missed", missed],
       ["False alerts", state.false_alerts.length], ["Blank areas", state.blank_areas || 0],
       ["Minutes", state.duration_minutes || "–"]].map(function (p) {
        return '<div><div class="small text-muted">' + p[0] + '</div><div class="fs-5 fw-semibold" data-summary="' +
          p[0].toLowerCase().replace(/ /g, "-") + '">' + p[1] + "</div></div>";
      }).join("") + "</div>";
  }
  function renderChoices() {
    $all("[data-choices]").forEach(function (el) {
      var key = el.dataset.choices;
      var values = key === "purpose" ? vocab.purposes.map(function (p) { return p[0]; }) : vocab[key === "wind" ? "winds" : "precipitations"];
      var labels = key === "purpose" ? vocab.purposes.reduce(function (o, p) { o[p[0]] = p[1]; return o; }, {}) : LABELS[key];
      el.innerHTML = choiceButtons(key, values, labels, state[key]);
    });
    drawErrors();
    rove();
  }
  function renderHandler() {
    var dog = dogById(state.dog_id);
    $all("[data-temperature-unit]").forEach(function (el) { el.textContent = temperatureUnit(state.dog_id) === "F" ? "°F" : "°C"; });
    var select = $("#handler_id"), fixed = $("#handler-fixed");
    if (boot.role === "handler") {
      select.classList.add("d-none"); fixed.classList.remove("d-none");
      fixed.textContent = boot.own_handler_name || "Your account is not linked to a handler record";
      return;
    }
    var options = boot.handlers.filter(function (h) { return !dog || h.agency_id === dog.agency_id; });
    select.innerHTML = '<option value="">Choose the handler…</option>' + options.map(function (h) {
      return '<option value="' + h.id + '">' + esc(h.name) + (dog && dog.handler_id === h.id ? " (current team)" : "") + "</option>";
    }).join("");
    select.value = state.handler_id || "";
  }
  function renderAll() {
    var dogSelect = $("#dog_id");
    dogSelect.innerHTML = '<option value="">Choose the dog…</option>' + boot.dogs.map(function (d) {
      var multi = boot.dogs.some(function (o) { return o.agency_id !== d.agency_id; });
      return '<option value="' + d.id + '">' + esc(d.name) + (d.call_sign ? " (" + esc(d.call_sign) + ")" : "") +
        (multi ? " · " + esc(d.agency) : "") + "</option>";
    }).join("");
    $("#environment_id").innerHTML = '<option value="">–</option>' + vocab.environments.map(function (t) {
      return '<option value="' + t.id + '">' + esc(t.name) + "</option>";
    }).join("");
    $all("[data-bind]").forEach(function (el) {
      var key = el.dataset.bind;
      if (key !== "handler_id") el.value = state[key] == null ? "" : state[key];
    });
    renderHandler();
    renderChoices();
    renderLists();
  }

  // ------------------------------------------------------------------ errors and messages
  // `errors` is the truth; drawErrors() marks the fields after every render, so an error stays on
  // its field when a card is redrawn and goes as soon as the field is right (recheck).
  function boxFor(field) {
    var box = field ? $('[data-field="' + field + '"]', root) : null;
    if (!box && field) box = $('[data-field="' + field.replace(/\..*$/, "").replace(/\[\d+\]$/, "") + '"]', root);
    return box;
  }
  function own(box) { return function (el) { return el.closest("[data-field]") === box; }; }
  function drawErrors() {
    $all(".field-error", root).forEach(function (el) { el.remove(); });
    $all(".is-invalid", root).forEach(function (el) { el.classList.remove("is-invalid"); });
    $all(".has-error", root).forEach(function (el) { el.classList.remove("has-error"); });
    $all("[data-error-for]", root).forEach(function (el) {
      el.removeAttribute("aria-invalid"); el.removeAttribute("aria-describedby"); el.removeAttribute("data-error-for");
    });
    errors.forEach(function (e, n) {
      var box = boxFor(e.field);
      if (!box) return;
      var msg = document.createElement("div");
      msg.className = "field-error invalid-feedback d-block fw-semibold";
      msg.id = "field-error-" + n;
      msg.textContent = e.error;
      box.classList.add("has-error");
      box.appendChild(msg);
      var controls = $all("input, select, textarea", box).filter(own(box));
      controls.forEach(function (c) { c.classList.add("is-invalid"); });
      var groups = $all('[role="group"]', box).filter(own(box));
      controls.concat(groups).forEach(function (c) {
        c.setAttribute("aria-invalid", "true");
        c.setAttribute("aria-describedby", msg.id);
        c.setAttribute("data-error-for", e.field);
      });
    });
  }
  function clearErrors() { errors = []; drawErrors(); }
  function showErrors(list) {
    var reopen = false;
    list.forEach(function (e) {
      var m = /^hides\[(\d+)\]/.exec(e.field || "");
      if (m && !openHides[Number(m[1])]) { openHides[Number(m[1])] = true; reopen = true; }
    });
    if (reopen) renderLists();
    errors = list.filter(function (e) { return boxFor(e.field); });
    drawErrors();
    list.filter(function (e) { return !boxFor(e.field); }).forEach(function (e) { flash(e.error, "danger"); });
    flash("Please check the " + plural(list.length, "marked field") + ". Nothing you typed was lost.", "danger", true);
    focusFirstError();
  }
  // The first marked field takes the focus (a choice group: its chosen or first button).
  function focusFirstError() {
    var first = $('[data-error-for]', root);
    if (!first) return;
    if (first.getAttribute("role") === "group") first = $('[aria-pressed="true"]', first) || $("button", first);
    first.scrollIntoView({ block: "center" });
    first.focus({ preventScroll: true });
  }
  // A field just changed: if it was marked, it keeps only what is still wrong with it.
  function recheck(field) {
    if (field === "started_at_time") field = "started_at";
    if (!field || !errors.some(function (e) { return e.field === field; })) return;
    var still = clientCheck(buildBody()).filter(function (e) { return e.field === field; });
    errors = errors.filter(function (e) { return e.field !== field; }).concat(still);
    drawErrors();
    if (!errors.length && $("#flash-area [data-errors]")) $("#flash-area").innerHTML = "";
  }
  function flash(message, kind, summary) {
    var area = $("#flash-area");
    var div = document.createElement("div");
    div.className = "alert alert-" + (kind || "info");
    if (summary) div.dataset.errors = "1";
    div.textContent = message;
    area.innerHTML = "";
    area.appendChild(div);
  }
  function renderNet() {
    var el = $("#net-status");
    el.textContent = navigator.onLine ? "Online" : "Offline";
    el.className = "badge " + (navigator.onLine ? "text-bg-success" : "text-bg-danger");
  }

  // ------------------------------------------------------------------ outbox display and upload
  var lastRejectedHtml = null;
  function renderQueue() {
    if (MODE !== "new") return Promise.resolve();
    return outboxAll().then(function (items) {
      var mine = items.filter(function (i) { return i.user_id === boot.user_id; });
      var waiting = mine.filter(function (i) { return i.status === "waiting"; });
      var rejected = mine.filter(function (i) { return i.status === "rejected"; });
      var others = items.length - mine.length;
      var box = $("#queue-status");
      box.dataset.count = waiting.length;
      box.classList.toggle("d-none", waiting.length === 0);
      $("#queue-text").textContent = plural(waiting.length, "session") + " waiting to upload" +
        (box.dataset.login ? " – log in again to upload them." : ".");
      var rejectedHtml = rejected.map(function (item) {
        return '<div class="alert alert-danger" data-test="rejected-item" data-uuid="' + esc(item.client_uuid) + '">' +
          "<strong>Not accepted by the server:</strong> " + esc(item.label) + "<br>" +
          '<span data-test="rejected-reason">' + esc(item.error) + (item.field ? " (" + esc(item.field) + ")" : "") + "</span>" +
          '<div class="mt-2 d-flex gap-2"><button type="button" class="btn btn-dark" data-action="open-rejected" data-uuid="' + esc(item.client_uuid) +
          '">Open in the form to fix</button><button type="button" class="btn btn-outline-dark" data-action="discard-rejected" data-uuid="' +
          esc(item.client_uuid) + '">Discard…</button></div></div>';
      }).join("");
      // Redrawn only when it changed: a sync that ends as it began must not swap the buttons
      // under a finger about to tap them (the tap would land on a button no longer there).
      if (rejectedHtml !== lastRejectedHtml) {
        $("#rejected-list").innerHTML = lastRejectedHtml = rejectedHtml;
      }
      var note = $("#other-users-note");
      note.classList.toggle("d-none", others === 0);
      note.textContent = others ? plural(others, "session") + " saved here by another user will upload when they log in." : "";
    }).catch(function () { /* no IndexedDB (private mode): nothing can wait */ });
  }
  function syncOutbox() {
    if (syncing || MODE !== "new") return Promise.resolve();
    syncing = true;
    return outboxAll().then(function (items) {
      var pending = items.filter(function (i) { return i.status === "waiting" && i.user_id === boot.user_id; });
      if (!pending.length) return;
      return getCsrf().then(function (token) {
        delete $("#queue-status").dataset.login;
        return pending.reduce(function (chain, item) {
          return chain.then(function (stop) {
            if (stop) return true;
            return send("POST", URLS.createUrl, item.body, token).then(function (r) {
              if (r.status === 200 || r.status === 201) return outboxDelete(item.client_uuid).then(function () { return false; });
              if (r.status === 401) { $("#queue-status").dataset.login = "1"; return true; }
              if (r.status >= 400 && r.status < 500) {
                item.status = "rejected";
                item.error = r.data.error || "Rejected (" + r.status + ").";
                item.field = r.data.field || null;
                item.errors = r.data.errors || [{ field: item.field, error: item.error }];
                return outboxPut(item).then(function () { return false; });
              }
              return true;  // a server error: try again later
            }, function () { return true; });  // offline again
          });
        }, Promise.resolve(false));
      }, function (e) { if (e && e.login) $("#queue-status").dataset.login = "1"; });
    }).catch(function () { /* retried on the next event */ })
      .then(function () { syncing = false; return renderQueue(); });
  }

  // ------------------------------------------------------------------ save
  function save() {
    var body = buildBody();
    var problems = clientCheck(body);
    if (problems.length) { showErrors(problems); return Promise.resolve(); }
    clearErrors();
    var button = $('[data-action="save"]');
    button.disabled = true;
    var done = function () { button.disabled = false; };
    if (MODE === "edit") {
      return getCsrf().then(function (token) { return send("PUT", URLS.updateUrl, body, token); }).then(function (r) {
        if (r.status === 200) { location.href = detailUrl(r.data.id) + "?saved=1"; return; }
        showErrors(r.data.errors || [{ field: r.data.field, error: r.data.error }]);
      }, function () { flash("No connection: an edit needs the network. Your changes are still in the form.", "warning"); })
        .then(done);
    }
    var dog = dogById(body.dog_id);
    var item = { client_uuid: body.client_uuid, body: body, status: "waiting", user_id: boot.user_id,
                 saved_at: new Date().toISOString(),
                 label: (dog ? dog.name : "Session") + ", " + body.started_at.replace("T", " ") + ", " + plural(body.hides.length, "hide") };
    // Into the outbox first: if the reply is lost the session is still on the tablet and the UUID dedupes it.
    return outboxPut(item).then(function () {
      return getCsrf().then(function (token) { return send("POST", URLS.createUrl, body, token); });
    }).then(function (r) {
      if (r.status === 200 || r.status === 201) {
        return outboxDelete(body.client_uuid).then(function () { clearDraft(); location.href = detailUrl(r.data.id) + "?saved=1"; });
      }
      if (r.status >= 400 && r.status < 500 && r.status !== 401) {
        // The handler is here to fix it: the form keeps everything, the outbox copy goes.
        return outboxDelete(body.client_uuid).then(function () {
          showErrors(r.data.errors || [{ field: r.data.field, error: r.data.error }]);
          done();
        });
      }
      waitOffline(r.status === 401 ? "You need to log in again" : "The server could not take it now");
    }, function (e) {
      waitOffline(e && e.login ? "You need to log in again" : "No connection");
    });
  }
  function waitOffline(why) {
    clearDraft();
    var keep = { dog_id: state.dog_id };
    state = freshState(keep);
    expanded = {};
    openHides = {};
    renderAll();
    saveDraft();
    $('[data-action="save"]').disabled = false;
    flash(why + ": the session is saved on this tablet and will upload by itself when the connection returns.", "warning");
    window.scrollTo(0, 0);
    return renderQueue();
  }

  // ------------------------------------------------------------------ keyboard
  // Each choice group is one Tab stop (its chosen button, else its first); the arrow keys, Home
  // and End move within it. Saving a hide by keyboard then takes a handful of Tabs, not dozens.
  function rove() {
    $all('[role="group"]', root).forEach(function (group) {
      var buttons = $all("button", group);
      var current = buttons.filter(function (b) { return b.getAttribute("aria-pressed") === "true"; })[0] || buttons[0];
      buttons.forEach(function (b) { b.tabIndex = b === current ? 0 : -1; });
    });
  }
  function onKeydown(event) {
    var btn = event.target.closest && event.target.closest('[role="group"] button');
    if (!btn || !root.contains(btn)) return;
    var buttons = $all("button", btn.closest('[role="group"]'));
    var at = buttons.indexOf(btn), to = null;
    if (event.key === "ArrowRight" || event.key === "ArrowDown") to = (at + 1) % buttons.length;
    else if (event.key === "ArrowLeft" || event.key === "ArrowUp") to = (at - 1 + buttons.length) % buttons.length;
    else if (event.key === "Home") to = 0;
    else if (event.key === "End") to = buttons.length - 1;
    if (to === null) return;
    event.preventDefault();
    buttons.forEach(function (b, i) { b.tabIndex = i === to ? 0 : -1; });
    buttons[to].focus();
  }
  // The form is redrawn after a choice: find the pressed button again by what it stands for.
  function selectorFor(btn) {
    var d = btn.dataset, sel = "";
    ["choice", "key", "value", "hide", "alert", "expand"].forEach(function (name) {
      if (d[name] !== undefined) sel += "[data-" + name + '="' + d[name] + '"]';
    });
    return sel;
  }
  function focusIn(selector) {
    var el = selector && $(selector, root);
    if (el) el.focus({ preventScroll: true });
  }
  function firstChoiceOf(card) {
    var group = card && $('[role="group"]', card);
    return group && ($('[aria-pressed="true"]', group) || $("button", group));
  }

  // ------------------------------------------------------------------ events
  function onClick(event) {
    var btn = event.target.closest("button");
    if (!btn || !root.contains(btn)) return;
    var d = btn.dataset;
    if (d.action === "save") return;  // the form's submit event handles it
    var field = (btn.closest("[data-field]") || { dataset: {} }).dataset.field;
    if (d.choice) {
      state[d.choice] = (state[d.choice] === d.value && d.choice !== "purpose") ? null : d.value;
      renderChoices();
      recheck(field);
      focusIn(selectorFor(btn));
    } else if (d.hide !== undefined && d.key) {
      var h = state.hides[Number(d.hide)];
      if (d.key === "blind") h.blind = d.value === "1";
      else if (d.key === "device_type_id" || d.key === "hiding_spot_id") h[d.key] = Number(d.value);
      else h[d.key] = h[d.key] === d.value && d.key !== "outcome" ? null : d.value;
      renderLists();
      recheck(field);
      focusIn(selectorFor(btn));
    } else if (d.alert !== undefined && d.key) {
      state.false_alerts[Number(d.alert)][d.key] = Number(d.value);
      renderLists();
      recheck(field);
      focusIn(selectorFor(btn));
    } else if (d.action === "expand") {
      expanded[d.expand] = !expanded[d.expand];
      renderLists();
      focusIn(selectorFor(btn));
    } else if (d.action === "open-hide") {
      openHides[Number(d.hide)] = true;
      renderLists();
      var opened = firstChoiceOf($('.hide-card[data-index="' + d.hide + '"]', root));
      if (opened) opened.focus();
    } else if (d.action === "add-hide") {
      state.hides.push(blankHide());
      openOnly(state.hides.length - 1);
      renderLists();
      scrollToLast(".hide-card");
      focusNewCard(".hide-card");
    } else if (d.action === "copy-last" || d.action === "copy-hide") {
      var index = d.action === "copy-hide" ? Number(d.hide) : state.hides.length - 1;
      var source = state.hides[index];
      var copy = source ? Object.assign({}, source, { outcome: null, seconds_to_find: "" }) : blankHide();
      state.hides.splice(source ? index + 1 : state.hides.length, 0, copy);
      openOnly(source ? index + 1 : state.hides.length - 1);
      renderLists();
      var cards = $all(".hide-card");
      var target = cards[source ? index + 1 : cards.length - 1];
      if (target) { target.scrollIntoView({ block: "center" }); var first = firstChoiceOf(target); if (first) first.focus({ preventScroll: true }); }
    } else if (d.action === "remove-hide") {
      if (!window.confirm("Remove hide " + (Number(d.hide) + 1) + "?")) return;
      state.hides.splice(Number(d.hide), 1);
      openHides = {};
      // The marks of the hides after it would now point at the wrong hide.
      errors = errors.filter(function (e) { return !/^hides\[/.test(e.field || ""); });
      renderLists();
      focusIn('[data-action="add-hide"]');
    } else if (d.action === "add-alert") {
      state.false_alerts.push({ hiding_spot_id: null, location_note: "", note: "" });
      renderLists();
      scrollToLast(".alert-card");
      focusNewCard(".alert-card");
    } else if (d.action === "remove-alert") {
      if (!window.confirm("Remove false alert " + (Number(d.alert) + 1) + "?")) return;
      state.false_alerts.splice(Number(d.alert), 1);
      errors = errors.filter(function (e) { return !/^false_alerts\[/.test(e.field || ""); });
      renderLists();
      focusIn('[data-action="add-alert"]');
    } else if (d.action === "duration") {
      state.duration_minutes = Number(d.value);
      $("#duration_minutes").value = d.value;
      renderSummary();
      recheck("duration_minutes");
    } else if (d.action === "blank") {
      state.blank_areas = Math.max(0, (Number(state.blank_areas) || 0) + Number(d.value));
      $("#blank_areas").value = state.blank_areas;
      renderSummary();
    } else if (d.action === "sync-now") {
      syncOutbox();
      return;
    } else if (d.action === "open-rejected" || d.action === "discard-rejected") {
      handleRejected(d.action, d.uuid);
      return;
    } else {
      return;
    }
    saveDraft();
  }
  function handleRejected(action, id) {
    outboxAll().then(function (items) {
      var item = items.filter(function (i) { return i.client_uuid === id; })[0];
      if (!item) return;
      if (action === "discard-rejected") {
        if (!window.confirm("Discard this session for good? It was never stored on the server.")) return;
        return outboxDelete(id).then(renderQueue);
      }
      // Same UUID: once fixed and saved it replaces the rejected copy.
      state = stateFromBody(item.body);
      openHides = {};
      renderAll();
      saveDraft();
      showErrors(item.errors || [{ field: item.field, error: item.error }]);
    });
  }
  function focusNewCard(selector) {
    var cards = $all(selector, root);
    var first = firstChoiceOf(cards[cards.length - 1]);
    if (first) first.focus({ preventScroll: true });
  }
  function scrollToLast(selector) {
    var cards = $all(selector);
    if (cards.length) cards[cards.length - 1].scrollIntoView({ block: "center" });
  }
  function onInput(event) {
    var el = event.target;
    if (el.dataset.bind) {
      state[el.dataset.bind] = el.value;
      if (el.dataset.bind === "dog_id") {
        var dog = dogById(el.value);
        if (boot.role !== "handler") state.handler_id = defaultHandler(dog);
        renderHandler();
      }
    } else if (el.dataset.hideInput) {
      state.hides[Number(el.dataset.hide)][el.dataset.hideInput] = el.value;
    } else if (el.dataset.alertInput) {
      state.false_alerts[Number(el.dataset.alert)][el.dataset.alertInput] = el.value;
    } else {
      return;
    }
    renderSummary();
    recheck((el.closest("[data-field]") || { dataset: {} }).dataset.field);
    saveDraft();
  }

  // Opened as a plan (?plan=<dog id>, esd/proficiency): the hides' set-up is filled in, outcomes stay empty.
  // The query is dropped at once, so a reload (or the page cached for offline use) restores the draft instead.
  function openPlan() {
    var plan = boot.plan;
    if (!plan || (new URLSearchParams(location.search)).get("plan") !== String(plan.dog_id)) return false;
    state = freshState({ dog_id: String(plan.dog_id) });
    state.blank_areas = plan.blank_areas;
    state.hides = plan.hides.map(function (h) { return Object.assign(blankHide(), h); });
    history.replaceState(null, "", location.pathname);
    saveDraft();
    return true;
  }

  function loadVocab() {
    return fetch(URLS.vocabUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (r) { if (!r.ok) throw new Error("vocab " + r.status); return r.json(); })
      .then(function (data) { try { localStorage.setItem(VOCAB_KEY, JSON.stringify(data)); } catch (e) { /* ignore */ } return data; })
      .catch(function () {
        var kept = localStorage.getItem(VOCAB_KEY);
        if (kept) return JSON.parse(kept);
        throw new Error("no vocabularies");
      });
  }

  function start() {
    renderNet();
    window.addEventListener("online", function () { renderNet(); syncOutbox(); });
    window.addEventListener("offline", renderNet);
    loadVocab().then(function (data) {
      vocab = data;
      if (MODE === "edit") {
        state = stateFromBody(boot.session);
      } else {
        var draft = null;
        try { draft = JSON.parse(localStorage.getItem(DRAFT_KEY) || "null"); } catch (e) { draft = null; }
        state = draft && draft.client_uuid ? draft : freshState();
        if (draft && (draft.hides.length || draft.false_alerts.length || draft.notes)) {
          flash("Your unsaved session was restored.", "info");
        }
        if (openPlan()) flash("The suggested session is filled in: record each hide's outcome as it happens.", "info");
      }
      renderAll();
      $("#loading").classList.add("d-none");
      $("#session-form").classList.remove("d-none");
      root.dataset.ready = "1";
      renderQueue().then(syncOutbox);
      setInterval(function () { if (navigator.onLine) syncOutbox(); }, 30000);
    }, function () {
      $("#loading").className = "alert alert-danger";
      $("#loading").textContent = "The form's choices could not be loaded. Open this page once with a connection to prepare the tablet.";
    });
    root.addEventListener("click", onClick);
    root.addEventListener("keydown", onKeydown);
    root.addEventListener("input", onInput);
    root.addEventListener("change", onInput);
    $("#session-form").addEventListener("submit", function (event) { event.preventDefault(); save(); });
  }
  start();
})();
