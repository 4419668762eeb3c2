// reconnect_clinic: a queued job's progress page (templates/reconnect_clinic/task_progress.html).
// Every few seconds, fetch this same page and put its status part in place of ours, until
// the job has finished or failed. The page works without this file (reloading it).
(function () {
  "use strict";
  var status = document.getElementById("task-status");
  if (!status || !window.fetch || !window.DOMParser) return;
  var EVERY = 2000;
  function ended(element) {
    var state = element.getAttribute("data-task-status");
    return state === "finished" || state === "failed";
  }
  function poll() {
    fetch(window.location.href, { credentials: "same-origin", cache: "no-store" })
      .then(function (response) {
        if (!response.ok) throw new Error(String(response.status));
        return response.text();
      })
      .then(function (html) {
        var page = new DOMParser().parseFromString(html, "text/html");
        var fresh = page.getElementById("task-status");
        if (!fresh) return;
        status.innerHTML = fresh.innerHTML;
        status.setAttribute("data-task-status", fresh.getAttribute("data-task-status"));
        if (!ended(status)) window.setTimeout(poll, EVERY);
      })
      .catch(function () { window.setTimeout(poll, EVERY * 3); });
  }
  if (!ended(status)) window.setTimeout(poll, EVERY);
})();
