// "Tài khoản kênh": add, change and remove channel accounts through /api/v1/accounts.
// Credentials are write-only: sent once, never shown again (the page lists their names only).
(function () {
  "use strict";
  var main = document.getElementById("live");
  var form = document.getElementById("account-form");
  if (!main || !form) return;
  var editing = null;  // "channel/name" while changing an account

  function say(text, bad) {
    var toast = document.getElementById("toast");
    toast.textContent = text;
    toast.className = bad ? "show bad" : "show";
  }

  function send(method, url, body) {
    var headers = { "Content-Type": "application/json" };
    headers[main.getAttribute("data-csrf-header")] = "1";
    return fetch(url, {
      method: method, credentials: "same-origin", headers: headers,
      body: body === undefined ? undefined : JSON.stringify(body)
    }).then(function (r) {
      if (r.ok) { location.reload(); return; }
      return r.json().then(function (e) {
        say(main.getAttribute("data-failed") + ": " + ((e.error && e.error.message) || r.status), true);
      });
    });
  }

  function body() {
    var out = { credentials: {}, options: {} };
    var names = form.querySelectorAll("input[name=credential_name]");
    var values = form.querySelectorAll("input[name=credential_value]");
    names.forEach(function (n, i) {
      if (n.value.trim() && values[i].value) out.credentials[n.value.trim()] = values[i].value;
    });
    var options = form.elements.options.value.trim();
    if (options) out.options = JSON.parse(options);
    var unit = form.elements.unit.value.trim();
    if (unit) out.unit = unit;
    if (form.elements.expires_at.value) out.expires_at = new Date(form.elements.expires_at.value).toISOString();
    return out;
  }

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var b;
    try { b = body(); } catch (err) { say("options: JSON", true); return; }
    if (editing) {
      send("PATCH", "/api/v1/accounts/" + editing.split("/").map(encodeURIComponent).join("/"), b);
    } else {
      b.channel = form.elements.channel.value;
      b.name = form.elements.name.value.trim();
      send("POST", "/api/v1/accounts", b);
    }
  });

  // Connect: the tracker keeps the state and PKCE verifier, the browser goes to the platform's consent
  document.querySelectorAll("form[data-connect]").forEach(function (connect) {
    connect.addEventListener("submit", function (e) {
      e.preventDefault();
      var b = {};
      Array.prototype.forEach.call(connect.querySelectorAll("input[name]"), function (input) {
        var value = input.type === "password" ? input.value : input.value.trim();
        if (value) b[input.name] = value;
      });
      var headers = { "Content-Type": "application/json" };
      headers[main.getAttribute("data-csrf-header")] = "1";
      fetch("/api/v1/accounts/connect/" + connect.getAttribute("data-connect"), {
        method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(b)
      }).then(function (r) {
        return r.json().then(function (answer) {
          if (r.ok) { location.href = answer.authorize_url; return; }
          say(main.getAttribute("data-failed") + ": " + ((answer.error && answer.error.message) || r.status), true);
        });
      });
    });
  });

  main.addEventListener("click", function (e) {
    var edit = e.target.closest("[data-account-edit]");
    var remove = e.target.closest("[data-account-remove]");
    if (edit) {
      editing = edit.getAttribute("data-account-edit");
      var parts = editing.split("/");
      form.elements.channel.value = parts[0];
      form.elements.name.value = parts[1];
      form.elements.channel.disabled = form.elements.name.disabled = true;
      form.elements.unit.value = edit.getAttribute("data-unit");
      document.getElementById("account-form-title").textContent = editing;
      form.scrollIntoView();
    } else if (remove && confirm(form.getAttribute("data-confirm-remove"))) {
      send("DELETE", remove.getAttribute("data-account-remove"));
    }
  });
})();
