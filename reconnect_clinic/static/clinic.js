// reconnect_clinic: small progressive enhancements. Every page works without this file.
(function () {
  "use strict";

  // "Copy link" buttons: copy the text of the input named in data-copy.
  document.querySelectorAll("[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var input = document.getElementById(button.getAttribute("data-copy"));
      if (!input) return;
      input.select();
      var done = function () { button.textContent = "Copied"; };
      if (navigator.clipboard) {
        navigator.clipboard.writeText(input.value).then(done, function () {});
      } else if (document.execCommand("copy")) {
        done();
      }
    });
  });

  // Intake pages: save a draft on the server shortly after each change, so a closed tab
  // or a lost connection loses at most the last few seconds of typing.
  var form = document.querySelector("form[data-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var status = form.querySelector(".autosave-status");
  var timer = null;
  function say(text) { if (status) status.textContent = text; }
  function save() {
    timer = null;
    var data = new FormData(form);
    data.set("action", "autosave");
    fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      say(response.ok ? "Draft saved." :
        "Could not save automatically. Your answers are still here: press Save.");
    }, function () {
      say("No connection right now. Your answers are still here; they will be saved when you press a button.");
    });
  }
  function later(delay) {
    if (timer) clearTimeout(timer);
    timer = setTimeout(save, delay);
  }
  // A pending draft save is dropped once the page is sent: the send saves it all anyway,
  // and a late draft racing it could hide from the server what was just disclosed.
  form.addEventListener("submit", function () { if (timer) clearTimeout(timer); });
  form.addEventListener("change", function () { later(300); });
  form.addEventListener("input", function (event) {
    if (event.target.tagName === "TEXTAREA" || event.target.type === "text") later(1500);
  });
})();

// Partner pages: "Exit this page" (and Esc pressed twice) leaves at once. The page is
// hidden first, then replaced in the browser's history by the neutral site the exit link
// leads to (through the clinic, which forgets this browser's links), so Back does not
// bring it up again. Without this file the link still leaves, as an ordinary link.
(function () {
  "use strict";
  var exit = document.querySelector("a[data-quick-exit]");
  if (!exit) return;
  function leave(event) {
    if (event) event.preventDefault();
    document.documentElement.classList.add("leaving");
    window.location.replace(exit.href);
  }
  exit.addEventListener("click", leave);
  var lastEscape = 0;
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape" && event.key !== "Esc") return;
    var now = Date.now();
    if (now - lastEscape < 1000) leave(event);
    lastEscape = now;
  });
  // A page the browser kept in memory shows hidden if it is ever brought back.
  window.addEventListener("pageshow", function (event) {
    if (event.persisted && document.documentElement.classList.contains("leaving")) {
      window.location.replace(exit.href);
    }
  });
})();
