// Connect, back from the platform with several accounts (a person's Facebook Pages): the admin picks one.
(function () {
  "use strict";
  var main = document.getElementById("live");
  var form = document.getElementById("connect-pick");
  if (!main || !form) return;
  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var headers = { "Content-Type": "application/json" };
    headers[main.getAttribute("data-csrf-header")] = "1";
    var body = { pick: form.getAttribute("data-pick"), choice: form.elements.choice.value };
    fetch(form.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin", headers: headers, body: JSON.stringify(body)
    }).then(function (r) {
      if (r.ok) { location.href = "/accounts"; return; }
      return r.json().then(function (answer) {
        var toast = document.getElementById("toast");
        toast.textContent = main.getAttribute("data-failed") + ": " + ((answer.error && answer.error.message) || r.status);
        toast.className = "show bad";
      });
    });
  });
})();
