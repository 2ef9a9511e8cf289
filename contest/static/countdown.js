// Keeps the home page's countdowns ("còn 2 ngày 3 giờ") current; without it the server's text stands.
// The phone's clock may be wrong: time is counted from the server's "now" the page was rendered with.
(function () {
  "use strict";
  var list = document.querySelector(".contest-list[data-now]");
  var nodes = document.querySelectorAll("[data-countdown]");
  if (!list || !nodes.length) return;
  var skew = Date.parse(list.dataset.now) - Date.now();
  function unit(template, n) { return template.replace("{n}", n); }
  function text(ms) {
    var minutes = Math.floor(ms / 60000);
    if (minutes < 1) return list.dataset.soon;
    var days = Math.floor(minutes / 1440), hours = Math.floor(minutes % 1440 / 60), parts = [];
    minutes = minutes % 60;
    if (days) parts.push(unit(list.dataset.day, days));
    if (hours) parts.push(unit(list.dataset.hour, hours));
    if (minutes) parts.push(unit(list.dataset.minute, minutes));
    return parts.join(" ");
  }
  function tick() {
    var now = Date.now() + skew;
    nodes.forEach(function (node) {
      var left = Date.parse(node.dataset.countdown) - now;
      node.textContent = left > 0 ? list.dataset.left.replace("{left}", text(left)) : list.dataset.opened;
    });
  }
  tick();
  setInterval(tick, 15000);
})();
