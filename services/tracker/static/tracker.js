// Loa tracker dashboard: live refresh over SSE and the action buttons. No build step, no CDN.
(function () {
  "use strict";
  var main = document.getElementById("live");
  if (!main) return;
  var toast = document.getElementById("toast");
  var dot = document.getElementById("live-dot");

  function say(text, bad) {
    toast.textContent = text;
    toast.className = bad ? "show bad" : "show";
    clearTimeout(say.timer);
    say.timer = setTimeout(function () { toast.className = ""; }, 4000);
  }

  // Re-render the page's main section from the server (same URL), keeping scroll and focus.
  var pending = null;
  function refresh() {
    if (pending) return;
    pending = setTimeout(function () {
      fetch(location.href, { credentials: "same-origin", headers: { Accept: "text/html" } })
        .then(function (r) { return r.ok ? r.text() : null; })
        .then(function (html) {
          pending = null;
          if (!html) return;
          var doc = new DOMParser().parseFromString(html, "text/html");
          var fresh = doc.getElementById("live");
          if (fresh && document.activeElement && main.contains(document.activeElement) &&
              /^(INPUT|TEXTAREA)$/.test(document.activeElement.tagName)) return;  // do not disturb typing
          if (fresh) main.innerHTML = fresh.innerHTML;
        })
        .catch(function () { pending = null; });
    }, 250);
  }

  var stream = main.getAttribute("data-stream");
  if (stream && window.EventSource) {
    var source = new EventSource(stream);
    var first = true;
    function onEvent() { if (first) { first = false; return; } refresh(); }
    source.addEventListener("changed", refresh);
    source.addEventListener("deliveries", onEvent);
    source.addEventListener("hello", function () { first = false; });
    source.onopen = function () { if (dot) dot.className = "live-dot on"; };
    source.onerror = function () { if (dot) dot.className = "live-dot"; };
  }

  main.addEventListener("submit", function (ev) {
    if (ev.target.hasAttribute("data-hold-form") || ev.target.hasAttribute("data-post-form")) {
      ev.preventDefault();  // the button posts it
    }
  });

  main.addEventListener("click", function (ev) {
    var button = ev.target.closest("button[data-action]");
    if (!button) return;
    ev.preventDefault();
    var action = button.getAttribute("data-action");
    var body = {};
    if (action === "retract") {
      var reason = prompt(main.getAttribute("data-retract-prompt"));
      if (!reason || !reason.trim()) return;
      body.reason = reason.trim();
    } else if (action === "cancel" && !confirm(main.getAttribute("data-confirm-cancel"))) {
      return;
    } else if (action === "hold") {
      // the hold switch: reason required, each scope field only when filled in
      var form = button.closest("form");
      if (!form.reportValidity()) return;
      ["reason", "unit", "channel", "account"].forEach(function (name) {
        var value = form.elements[name].value.trim();
        if (value) body[name] = value;
      });
    } else if (action === "form") {
      // a form posted as JSON: its filled-in fields; data-list fields are comma-separated lists
      var posted = button.closest("form");
      if (!posted.reportValidity()) return;
      if (button.hasAttribute("data-confirm") && !confirm(button.getAttribute("data-confirm"))) return;
      Array.prototype.forEach.call(posted.elements, function (field) {
        var value = field.name ? field.value.trim() : "";
        if (!value) return;
        body[field.name] = field.hasAttribute("data-list")
          ? value.split(",").map(function (v) { return v.trim(); }).filter(Boolean) : value;
      });
    } else if (action === "release" && !confirm(main.getAttribute("data-confirm-release"))) {
      return;
    } else if (action === "late") {
      body.action = button.getAttribute("data-late");
      if (body.action === "reschedule") {
        var at = button.parentNode.querySelector("input[name=at]");
        if (!at.value) { at.focus(); return; }
        body.at = new Date(at.value).toISOString();  // the browser's own zone, sent as UTC
      } else if (body.action === "cancel" && !confirm(main.getAttribute("data-confirm-cancel"))) {
        return;
      }
    }
    var headers = { "Content-Type": "application/json" };
    headers[main.getAttribute("data-csrf-header")] = "1";
    button.disabled = true;
    fetch(button.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)
    }).then(function (r) {
      if (r.ok && action === "form") {
        var go = button.getAttribute("data-go");
        button.closest("form").reset();
        if (go) return r.json().then(function (made) { location.href = go + made.id; });
        say(main.getAttribute("data-sent"), false);
        refresh();
        return;
      }
      if (r.ok) { say(main.getAttribute("data-sent"), false); return; }
      return r.json().then(function (e) {
        say(main.getAttribute("data-failed") + ": " + ((e.error && e.error.message) || r.status), true);
      });
    }).catch(function () {
      say(main.getAttribute("data-failed"), true);
    }).finally(function () { button.disabled = false; });
  });
})();
