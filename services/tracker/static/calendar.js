// The planning calendar: drag a scheduled post to another day (same time of day), or "Dời lịch"
// with a date and time. Both send POST /api/v1/deliveries/{id}/reschedule; the server checks the
// permission and the state again. Times are the office's (Asia/Ho_Chi_Minh, +07:00), whatever the
// browser's own zone. Listeners sit on the document: the live refresh replaces the page's main.
(function () {
  "use strict";
  var OFFICE_OFFSET = "+07:00";  // Asia/Ho_Chi_Minh has had no DST since 1975
  var main = document.getElementById("live");
  var toast = document.getElementById("toast");
  if (!main || !document.getElementById("calendar")) return;

  function say(text, bad) {
    toast.textContent = text;
    toast.className = bad ? "show bad" : "show";
    setTimeout(function () { toast.className = ""; }, 4000);
  }

  function move(item, localDateTime, cell) {
    var headers = { "Content-Type": "application/json" };
    headers[main.getAttribute("data-csrf-header")] = "1";
    return fetch(item.getAttribute("data-url"), {
      method: "POST", credentials: "same-origin", headers: headers,
      body: JSON.stringify({ at: localDateTime + ":00" + OFFICE_OFFSET })
    }).then(function (r) {
      if (r.ok) {
        if (cell) cell.querySelector("ul.cal-items").appendChild(item);
        item.setAttribute("data-moved", localDateTime);
        say(main.getAttribute("data-sent"), false);
        return;
      }
      return r.json().then(function (e) {
        say(main.getAttribute("data-failed") + ": " + ((e.error && e.error.message) || r.status), true);
      });
    }).catch(function () { say(main.getAttribute("data-failed"), true); });
  }

  var dragged = null;
  document.addEventListener("dragstart", function (ev) {
    var item = ev.target.closest && ev.target.closest("li.cal-item[draggable=true]");
    if (!item) return;
    dragged = item;
    ev.dataTransfer.effectAllowed = "move";
    ev.dataTransfer.setData("text/plain", item.getAttribute("data-delivery"));
  });
  document.addEventListener("dragover", function (ev) {
    var cell = dragged && ev.target.closest && ev.target.closest("td.cal-day");
    if (!cell) return;
    ev.preventDefault();
    cell.classList.add("drop");
  });
  document.addEventListener("dragleave", function (ev) {
    var cell = ev.target.closest && ev.target.closest("td.cal-day");
    if (cell) cell.classList.remove("drop");
  });
  document.addEventListener("drop", function (ev) {
    var cell = dragged && ev.target.closest && ev.target.closest("td.cal-day");
    if (!cell) return;
    ev.preventDefault();
    cell.classList.remove("drop");
    var item = dragged;
    dragged = null;
    if (item.closest("td.cal-day") === cell) return;
    move(item, cell.getAttribute("data-day") + "T" + item.getAttribute("data-time"), cell);
  });

  document.addEventListener("click", function (ev) {
    var button = ev.target.closest && ev.target.closest("button[data-move]");
    if (!button) return;
    ev.preventDefault();
    var item = button.closest("li.cal-item");
    var at = button.parentNode.querySelector("input[name=at]");
    if (!at.value) { at.focus(); return; }
    var day = at.value.slice(0, 10);
    var cell = document.querySelector('td.cal-day[data-day="' + day + '"]');
    button.disabled = true;
    move(item, at.value.slice(0, 16), cell).finally(function () { button.disabled = false; });
  });
})();
