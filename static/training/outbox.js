/* The home page's list of sessions still waiting on this tablet to upload.
   The training log (app.js) keeps every session it saves in IndexedDB ("esd-training", store
   "outbox") until the server has it; this reads that store, never writes it, and shows the
   signed-in user's waiting and refused sessions. The upload itself happens in the training log. */
(function () {
  "use strict";
  var box = document.getElementById("home-outbox");
  if (!box || !window.indexedDB) return;
  var userId = Number(box.dataset.userId);
  var DB_NAME = "esd-training";
  var STORE = "outbox";

  function openDb() {
    return new Promise(function (resolve, reject) {
      // No version: whatever version the training log has made. Opening creates the database
      // when the tablet has none yet, so create its store as app.js does, or app.js would find none.
      var req = indexedDB.open(DB_NAME);
      req.onupgradeneeded = function () { req.result.createObjectStore(STORE, { keyPath: "client_uuid" }); };
      req.onsuccess = function () { resolve(req.result); };
      req.onerror = function () { reject(req.error); };
    });
  }

  function all() {
    return openDb().then(function (db) {
      return new Promise(function (resolve, reject) {
        if (!db.objectStoreNames.contains(STORE)) { db.close(); resolve([]); return; }
        var tx = db.transaction(STORE, "readonly");
        var req = tx.objectStore(STORE).getAll();
        tx.oncomplete = function () { db.close(); resolve(req.result || []); };
        tx.onerror = function () { db.close(); reject(tx.error); };
      });
    });
  }

  function item(entry) {
    var li = document.createElement("li");
    li.className = "list-group-item px-0";
    li.setAttribute("data-test", "outbox-item");
    li.textContent = entry.label || "A session";
    var badge = document.createElement("span");
    badge.className = "badge ms-2 " + (entry.status === "rejected" ? "text-bg-danger" : "text-bg-secondary");
    badge.textContent = entry.status === "rejected" ? "not accepted: open the training log to fix it" : "waiting";
    li.appendChild(badge);
    return li;
  }

  all().then(function (items) {
    var mine = items.filter(function (entry) {
      return entry.user_id === userId && (entry.status === "waiting" || entry.status === "rejected");
    });
    var list = document.getElementById("home-outbox-list");
    list.textContent = "";
    mine.forEach(function (entry) { list.appendChild(item(entry)); });
    box.dataset.count = String(mine.length);
    box.classList.toggle("d-none", mine.length === 0);
  }).catch(function () { /* no IndexedDB (private mode): nothing can be waiting */ });
})();
