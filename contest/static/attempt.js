/* The attempt page: save each click at once, retry until the server acknowledges it, keep
   unsent clicks in localStorage across reloads, show the server's countdown, submit at zero.
   Without this script the page is a plain form that still saves and submits. */
(function () {
  "use strict";
  var form = document.getElementById("attempt");
  if (!form || !window.fetch) return;
  var t = form.dataset, key = "attempt:" + t.attempt, token = form.elements._csrf_token.value;
  var clock = document.getElementById("clock"), net = document.getElementById("net"),
      netBar = document.getElementById("net-bar");
  var deadline = Date.now() + Number(clock.dataset.remaining) * 1000;
  var pending = {}, busy = {}, delay = 1000, timer = null, closed = false, submitting = false;
  try { pending = JSON.parse(localStorage.getItem(key) || "{}"); } catch (e) { pending = {}; }
  // Started by a form post: show the attempt's own address, so that a reload resumes it.
  if (location.pathname !== t.url && window.history && history.replaceState) history.replaceState(null, "", t.url);

  function keep() { try { localStorage.setItem(key, JSON.stringify(pending)); } catch (e) { /* private mode */ } }
  function box(pos) { return document.querySelector(pos === "p" ? "#qp" : "#q" + pos); }
  function say(pos, text, cls) {
    var el = box(pos) && box(pos).querySelector(".status");
    if (el) { el.textContent = text; el.className = "status " + (cls || ""); }
  }
  function current(pos) {
    if (pos === "p") return form.elements.prediction.value.trim();
    var out = [];
    form.querySelectorAll('input[name="q' + pos + '"]:checked').forEach(function (i) { if (i.value !== "") out.push(i.value); });
    return out;
  }
  function counted() {
    var n = 0;
    form.querySelectorAll(".attempt-q > li").forEach(function (li) { if (current(li.dataset.pos).length) n++; });
    document.getElementById("answered").textContent = n;
  }
  function offline(yes) { net.hidden = !yes; if (netBar) netBar.hidden = !yes; }

  function send(pos) {
    if (busy[pos] || closed || !(pos in pending)) return;
    var value = pending[pos], body = new URLSearchParams(), url;
    if (pos === "p") { url = t.prediction; body.append("prediction", value); }
    else { url = t.save + pos; value.forEach(function (c) { body.append("choice", c); }); }
    busy[pos] = true;
    say(pos, t.tSaving, "muted");
    fetch(url, { method: "POST", body: body, credentials: "same-origin", headers: { "X-CSRFToken": token } })
      .then(function (r) {
        return r.json().catch(function () { return {}; }).then(function (j) { return { status: r.status, body: j }; });
      })
      .then(function (res) {
        busy[pos] = false;
        offline(false);
        if (res.status >= 500 || res.status === 408 || res.status === 429) return failed(pos, false);
        if (res.status === 401 || res.status === 403) {  // signed out: keep the click queued for after login
          say(pos, t.tLogin, "err-text");
          return;
        }
        delay = 1000;
        var same = JSON.stringify(pending[pos]) === JSON.stringify(value);
        if (same) { delete pending[pos]; keep(); }
        if (res.status < 300) say(pos, pos === "p" && res.body.shown ? t.tSavedValue.replace("{value}", res.body.shown) : t.tSaved, "ok-text");
        else {
          var err = res.body.error || {};
          say(pos, err.message || res.status, "err-text");
          if (err.code === "attempt_closed") { closed = true; location.reload(); return; }
        }
        if (!same) send(pos);
      }, function () {
        busy[pos] = false;
        failed(pos, true);
      });
  }
  function failed(pos, network) {
    if (network) offline(true);
    say(pos, t.tRetry, "err-text");
    retryLater();
  }
  function flush() { Object.keys(pending).forEach(send); }
  function retryLater() {
    if (timer || closed) return;
    timer = setTimeout(function () { timer = null; flush(); }, delay);
    delay = Math.min(delay * 2, 15000);
  }

  form.addEventListener("change", function (e) {
    var name = e.target.name, pos = name === "prediction" ? "p" : name.slice(1);
    if (pos !== "p" && !/^\d+$/.test(pos)) return;
    if (pos === "p" && !current("p")) return;  // "1.250", "1 250": the server reads them
    pending[pos] = current(pos);
    keep();
    counted();
    send(pos);
  });
  window.addEventListener("online", function () {
    delay = 1000;
    if (!Object.keys(pending).length) offline(false);
    flush();
  });
  // The browser knows before any save fails; the banners go again once a save gets through.
  window.addEventListener("offline", function () { offline(true); });
  if (navigator.onLine === false) offline(true);

  // Clicks that never reached the server before a reload: show them again and send them.
  Object.keys(pending).forEach(function (pos) {
    var value = pending[pos];
    if (!box(pos)) { delete pending[pos]; return; }
    if (pos === "p") form.elements.prediction.value = value;
    else form.querySelectorAll('input[name="q' + pos + '"]').forEach(function (i) {
      if (i.value !== "") i.checked = value.indexOf(i.value) >= 0;
    });
  });
  keep();
  counted();
  flush();

  function finish(confirmed) {
    submitting = true;
    var c = document.createElement("input");
    c.type = "hidden"; c.name = "confirm"; c.value = confirmed ? "1" : "";
    var a = document.createElement("input");
    a.type = "hidden"; a.name = "action"; a.value = "submit";
    form.appendChild(c); form.appendChild(a);
    // The prototype's submit: a control named "submit" would shadow form.submit.
    HTMLFormElement.prototype.submit.call(form);
  }
  form.addEventListener("submit", function (e) {
    if (submitting || !e.submitter || e.submitter.value !== "submit") return;
    e.preventDefault();
    var missing = [];
    form.querySelectorAll(".attempt-q > li").forEach(function (li, i) { if (!current(li.dataset.pos).length) missing.push(i + 1); });
    var text = t.tConfirm + (missing.length ? "\n" + t.tUnanswered + " " + missing.join(", ") : "");
    if (window.confirm(text)) finish(true);
  });

  function tick() {
    var left = Math.max(0, Math.round((deadline - Date.now()) / 1000));
    clock.textContent = Math.floor(left / 60) + ":" + String(left % 60).padStart(2, "0");
    document.getElementById("bar").classList.toggle("late", left < 60);
    if (left === 0 && !submitting) {
      say("p", t.tTimeup, "err-text");
      finish(true);
      return;
    }
    setTimeout(tick, 1000 - (Date.now() % 1000));
  }
  tick();
})();
