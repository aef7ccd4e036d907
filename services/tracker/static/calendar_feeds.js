// The calendar's feed links (admins): issue one for a unit (POST /api/v1/calendar/feeds; its URL,
// key included, is shown this once, never stored) and revoke one. The server checks the permission
// and audits both. The list below is fetched again after each, in place.
(function () {
  "use strict";
  var main = document.getElementById("live");
  var section = document.getElementById("calendar-feeds");
  if (!main || !section) return;
  var toast = document.getElementById("toast");

  function say(text, bad) {
    toast.textContent = text;
    toast.className = bad ? "show bad" : "show";
    setTimeout(function () { toast.className = ""; }, 4000);
  }

  function post(url, body) {
    var headers = { "Content-Type": "application/json" };
    headers[main.getAttribute("data-csrf-header")] = "1";
    return fetch(url, {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body || {})
    }).then(function (r) {
      return r.json().then(function (answer) {
        if (!r.ok) throw new Error((answer.error && answer.error.message) || String(r.status));
        return answer;
      });
    });
  }

  // The list again from the server (the new link stays on screen: it is never shown twice).
  function reloadList() {
    return fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
      .then(function (r) { return r.text(); })
      .then(function (html) {
        var fresh = new DOMParser().parseFromString(html, "text/html").getElementById("feed-table");
        if (fresh) document.getElementById("feed-table").innerHTML = fresh.innerHTML;
      });
  }

  function failed(e) { say(main.getAttribute("data-failed") + ": " + e.message, true); }

  section.addEventListener("submit", function (ev) {
    var form = ev.target.closest("#feed-issue");
    if (!form) return;
    ev.preventDefault();
    post(form.getAttribute("data-url"), { unit: form.elements.unit.value }).then(function (feed) {
      var shown = document.getElementById("feed-url");
      shown.value = location.origin + feed.url;
      document.getElementById("feed-new").hidden = false;
      shown.select();
      return reloadList();
    }).catch(failed);
  });

  section.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button[data-revoke-feed]");
    if (!button) return;
    ev.preventDefault();
    if (!window.confirm(button.getAttribute("data-confirm"))) return;
    button.disabled = true;
    post(button.getAttribute("data-revoke-feed")).then(function () {
      say(main.getAttribute("data-sent"), false);
      return reloadList();
    }).catch(function (e) { button.disabled = false; failed(e); });
  });
})();
