// The contest page's share button: the phone's own share sheet (Web Share API, e.g. to Zalo or
// Facebook) where the browser has one, otherwise the link is copied. No third-party script.
(function () {
  "use strict";
  var box = document.getElementById("share");
  if (!box) return;
  var button = document.getElementById("share-button");
  var field = document.getElementById("share-url");
  var status = document.getElementById("share-status");
  var url = box.getAttribute("data-url");
  var title = box.getAttribute("data-title");

  function say(text) { status.textContent = text; }

  function copyByField() {
    field.focus();
    field.select();
    try {
      return document.execCommand("copy");
    } catch (e) {
      return false;
    }
  }

  function copy() {
    if (navigator.clipboard && window.isSecureContext) {
      navigator.clipboard.writeText(url).then(function () {
        say(box.getAttribute("data-t-copied"));
      }, function () {
        say(box.getAttribute(copyByField() ? "data-t-copied" : "data-t-failed"));
      });
    } else {
      say(box.getAttribute(copyByField() ? "data-t-copied" : "data-t-failed"));
    }
  }

  button.hidden = false;
  button.addEventListener("click", function () {
    if (navigator.share) {
      navigator.share({ title: title, url: url }).catch(function (error) {
        if (!error || error.name !== "AbortError") copy();  // closed by the person: nothing to do
      });
    } else {
      copy();
    }
  });
})();
