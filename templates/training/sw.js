/* ESD K9 Tracker service worker: keeps the training log usable without a network.
   App shell, Bootstrap (sent no-cache by the server) and the vocabularies are cached;
   pages are fetched from the network first and fall back to the cache. Uploads are
   not queued here: the page keeps unsent sessions in IndexedDB and retries them. */
const CACHE = {{ version|tojson }};
const SHELL = {{ shell|tojson }};
const NEW_SESSION = {{ new_session_url|tojson }};
const NETWORK_TIMEOUT_MS = 6000;

self.addEventListener("install", (event) => {
  event.waitUntil((async () => {
    const cache = await caches.open(CACHE);
    // One at a time and tolerant: a missing file must not leave the tablet without the form.
    for (const url of SHELL) {
      try {
        const response = await fetch(url, { credentials: "same-origin", cache: "no-store" });
        if (response.ok && !response.redirected) await cache.put(url, response);
      } catch (e) { /* offline during install: the next visit fills it */ }
    }
    await self.skipWaiting();
  })());
});

self.addEventListener("activate", (event) => {
  event.waitUntil((async () => {
    for (const key of await caches.keys()) {
      if (key !== CACHE) await caches.delete(key);
    }
    await self.clients.claim();
  })());
});

function withTimeout(promise, ms) {
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error("timeout")), ms);
    promise.then((value) => { clearTimeout(timer); resolve(value); },
                 (error) => { clearTimeout(timer); reject(error); });
  });
}

async function networkFirst(request, cacheKey) {
  const cache = await caches.open(CACHE);
  try {
    const response = await withTimeout(fetch(request), NETWORK_TIMEOUT_MS);
    if (response.ok && !response.redirected && response.type === "basic") {
      await cache.put(cacheKey || request, response.clone());
    }
    return response;
  } catch (error) {
    const cached = await cache.match(cacheKey || request, { ignoreSearch: true });
    if (cached) return cached;
    if (request.mode === "navigate") {
      const form = await cache.match(NEW_SESSION);
      if (form) return form;
    }
    throw error;
  }
}

async function cacheFirst(request) {
  const cache = await caches.open(CACHE);
  const cached = await cache.match(request);
  if (cached) {
    fetch(request).then((response) => { if (response.ok) cache.put(request, response); }).catch(() => {});
    return cached;
  }
  const response = await fetch(request);
  if (response.ok) await cache.put(request, response.clone());
  return response;
}

self.addEventListener("fetch", (event) => {
  const request = event.request;
  if (request.method !== "GET") return;
  const url = new URL(request.url);
  if (url.origin !== self.location.origin) return;
  if (url.pathname === NEW_SESSION) {
    event.respondWith(networkFirst(request, NEW_SESSION));
  } else if (url.pathname.startsWith("/static/") || url.pathname.startsWith("/bootstrap/static/")) {
    event.respondWith(cacheFirst(request));
  } else if (/^\/planned\/\d+\/record$/.test(url.pathname)) {
    // A planned session's recording page holds its area names only (never the sealed plan).
    event.respondWith(networkFirst(request));
  } else if (url.pathname === "/api/vocabularies") {
    event.respondWith(networkFirst(request));
  } else if (request.mode === "navigate") {
    // Other pages are records: never stored on the tablet, but offline the form still opens.
    event.respondWith(fetch(request).catch(async () => {
      const form = await caches.match(NEW_SESSION, { cacheName: CACHE });
      return form || Response.error();
    }));
  }
});
