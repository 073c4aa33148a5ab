/* Recording a planned session's outcomes at the site, with or without a connection.
   Each outcome is kept in localStorage until the server has it; a retry of one already stored is
   answered 200 (not a second outcome), so an upload interrupted half-way is simply sent again. */
(function () {
  "use strict";
  const app = document.getElementById("record-app");
  if (!app) return;
  const KEY = "esd-planned-outcomes-" + app.dataset.plan;
  const status = document.getElementById("record-status");
  let sending = false;

  function queue() {
    try { return JSON.parse(localStorage.getItem(KEY) || "[]"); } catch (e) { return []; }
  }
  function store(items) {
    if (items.length) localStorage.setItem(KEY, JSON.stringify(items));
    else localStorage.removeItem(KEY);
  }
  function card(areaId) { return app.querySelector('.area-card[data-area="' + areaId + '"]'); }
  function say(text, kind) {
    status.textContent = text;
    status.className = "alert py-2 alert-" + (kind || "secondary");
  }
  function describe(body) {
    if (body.outcome === "no_alert") return "no alert";
    const select = app.querySelector(".alert-spot");
    const option = select && select.querySelector('option[value="' + body.alert_spot_id + '"]');
    return "alert at " + (option ? option.textContent : "the chosen spot");
  }
  function mark(areaId, text, done) {
    const el = card(areaId);
    if (!el) return;
    el.querySelector(".area-state").textContent = text;
    el.querySelector(".area-actions").classList.toggle("d-none", done);
  }
  function showQueued() {
    for (const item of queue()) mark(item.area, "Waiting to upload: " + describe(item.body), true);
  }
  function summary() {
    const waiting = queue().length;
    if (waiting) say(waiting + " outcome" + (waiting > 1 ? "s" : "") + " waiting to upload" +
                     (navigator.onLine ? "…" : " (offline: they upload when the tablet is back online)."), "warning");
    else say("All recorded outcomes are uploaded.", "success");
  }
  async function token() {
    const r = await fetch(app.dataset.csrfUrl, { credentials: "same-origin", cache: "no-store",
                                                 headers: { Accept: "application/json" } });
    if (!r.ok) throw new Error("csrf " + r.status);
    return (await r.json()).csrf_token;
  }
  async function flush() {
    if (sending || !queue().length) { summary(); return; }
    sending = true;
    try {
      const csrf = await token();
      for (const item of queue()) {
        const r = await fetch(item.url, { method: "POST", credentials: "same-origin",
          headers: { "Content-Type": "application/json", Accept: "application/json", "X-CSRFToken": csrf },
          body: JSON.stringify(item.body) });
        const answer = await r.json().catch(() => ({}));
        store(queue().filter((other) => other.area !== item.area));
        if (r.ok) {
          mark(item.area, "Recorded: " + describe(item.body), true);
        } else {
          mark(item.area, "Not recorded", r.status === 409);
          const el = card(item.area);
          if (el) el.querySelector(".area-error").textContent = answer.error || ("Refused (" + r.status + ").");
          if (r.status === 409 && el) el.querySelector(".area-state").textContent = answer.error || "Already recorded";
        }
      }
    } catch (e) {
      /* offline or the server unreachable: everything stays queued */
    } finally {
      sending = false;
      summary();
    }
  }
  function add(areaId, body) {
    const el = card(areaId);
    body.recorded_at = new Date().toISOString();
    store(queue().filter((item) => item.area !== areaId).concat([{ area: areaId, url: el.dataset.url, body: body }]));
    mark(areaId, "Waiting to upload: " + describe(body), true);
    flush();
  }

  app.addEventListener("click", function (event) {
    const el = event.target.closest(".area-card");
    if (!el) return;
    const areaId = el.dataset.area;
    el.querySelector(".area-error").textContent = "";
    if (event.target.closest(".choose-none")) {
      add(areaId, { outcome: "no_alert" });
    } else if (event.target.closest(".choose-alert")) {
      el.querySelector(".alert-details").classList.remove("d-none");
      el.querySelector(".alert-spot").focus();
    } else if (event.target.closest(".save-alert")) {
      const spot = el.querySelector(".alert-spot").value;
      const seconds = el.querySelector(".alert-seconds").value.trim();
      if (!spot) { el.querySelector(".area-error").textContent = "Choose where the dog alerted."; return; }
      if (seconds && !/^[0-9]{1,4}$/.test(seconds) || Number(seconds) > 7200) {
        el.querySelector(".area-error").textContent = "Seconds to alert must be from 0 to 7200."; return;
      }
      const body = { outcome: "alert", alert_spot_id: Number(spot) };
      if (seconds) body.seconds_to_find = Number(seconds);
      const note = el.querySelector(".alert-note").value.trim();
      if (note) body.alert_note = note;
      add(areaId, body);
    }
  });
  window.addEventListener("online", flush);
  showQueued();
  flush();
  app.dataset.ready = "1";
})();
