/* The entry page: save the text as a draft a moment after each change, keep it in localStorage
   while the network is away, and restore it on the next visit if the server never got it.
   Without this script the page is a plain form that still submits. */
(function () {
  "use strict";
  var form = document.getElementById("entry"), area = document.getElementById("entry-text");
  if (!form || !area || !window.fetch) return;
  var t = form.dataset, token = form.elements._csrf_token.value, key = t.key;
  var status = document.getElementById("draft-status"), count = document.getElementById("word-count");
  var timer = null, busy = false, dirty = false, delay = 2000;

  function words(text) { var m = text.match(/[\p{L}\p{N}]+(?:[-'’][\p{L}\p{N}]+)*/gu); return m ? m.length : 0; }
  function counted() { count.textContent = t.tWords.replace("{n}", words(area.value)); }
  function keep() { try { localStorage.setItem(key, JSON.stringify({ text: area.value, at: Date.now() })); } catch (e) { /* private mode */ } }
  function forget() { try { localStorage.removeItem(key); } catch (e) { /* private mode */ } }
  function later(ms) { clearTimeout(timer); timer = setTimeout(send, ms); }

  function send() {
    if (busy) { dirty = true; return; }
    var sent = area.value, body = new URLSearchParams();
    body.append("text", sent);
    busy = true; dirty = false;
    status.textContent = t.tSaving;
    fetch(t.draft, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token } })
      .then(function (r) { return r.json().catch(function () { return {}; }).then(function (j) { return { ok: r.ok, status: r.status, body: j }; }); })
      .then(function (res) {
        busy = false;
        if (res.ok) {
          delay = 2000;
          status.textContent = res.body.message || "";
          if (area.value === sent) forget();
        } else if (res.status >= 500 || res.status === 429) {
          status.textContent = t.tOffline; delay = Math.min(delay * 2, 30000); later(delay); return;
        } else {
          status.textContent = (res.body && res.body.error) || "";
        }
        if (dirty || area.value !== sent) later(1500);
      })
      .catch(function () { busy = false; status.textContent = t.tOffline; delay = Math.min(delay * 2, 30000); later(delay); });
  }

  // A draft typed here that the server never acknowledged (closed tab, lost network) comes back.
  try {
    var local = JSON.parse(localStorage.getItem(key) || "null"), server = t.savedAt ? Date.parse(t.savedAt) : 0;
    if (local && local.text !== area.value && local.at > server) { area.value = local.text; status.textContent = t.tRestored; later(500); }
  } catch (e) { /* nothing kept */ }
  counted();
  area.addEventListener("input", function () { keep(); counted(); later(1500); });
  window.addEventListener("online", function () { later(100); });
  form.addEventListener("submit", function () { keep(); });
})();
