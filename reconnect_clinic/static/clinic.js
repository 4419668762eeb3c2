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
  // The words come from the page (data-*), so they are in the partner's language.
  function say(key) { if (status) status.textContent = status.getAttribute("data-" + key) || ""; }
  function save() {
    timer = null;
    var data = new FormData(form);
    data.set("action", "autosave");
    fetch(form.getAttribute("data-autosave"), {
      method: "POST", body: data, credentials: "same-origin",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      // 410: the link (or its case) no longer takes answers; saying "press a button"
      // would promise a save that cannot happen.
      say(response.ok ? "saved" : response.status === 410 ? "gone" : "failed");
    }, function () {
      say("offline");
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

// Therapist pages: typing counts as activity, and a warning shows before the idle
// sign-out. While the therapist types, the page tells the server at most once a minute
// (the server's idle clock is reset by that post); a couple of minutes before the limit
// a banner offers "Stay signed in". Without this file the idle limit applies as before,
// and a note posted after it is kept and restored after sign-in anyway.
(function () {
  "use strict";
  var banner = document.querySelector("[data-idle-warning]");
  if (!banner || !window.fetch || !window.FormData) return;
  var PING_EVERY = 60 * 1000;
  var timeout = parseInt(banner.getAttribute("data-idle-timeout"), 10) * 1000;
  var warnBefore = parseInt(banner.getAttribute("data-idle-warn-before"), 10) * 1000;
  var left = parseInt(banner.getAttribute("data-idle-left"), 10) * 1000;
  if (!(timeout > 0) || isNaN(left) || isNaN(warnBefore)) return;
  var deadline = Date.now() + left;
  var lastPing = Date.now();
  var text = banner.querySelector(".idle-warning-text");
  var button = banner.querySelector("[data-stay-signed-in]");

  function ping() {
    lastPing = Date.now();
    var data = new FormData();
    data.set("csrf_token", banner.getAttribute("data-csrf-token"));
    var sent = Date.now();
    return fetch(banner.getAttribute("data-still-here"), {
      method: "POST", body: data, credentials: "same-origin", redirect: "manual",
      headers: { "X-Requested-With": "fetch" }
    }).then(function (response) {
      if (response.status === 204) {
        deadline = sent + timeout;
        check();
      }
    }, function () {});
  }
  function check() {
    var now = Date.now();
    if (deadline - now > warnBefore) {
      banner.hidden = true;
      return;
    }
    if (deadline <= now) {
      if (text) text.textContent = "You have been signed out after " +
        Math.round(timeout / 60000) + " minutes without activity. Anything you save now " +
        "is kept and will be back after you sign in.";
      if (button) button.hidden = true;
    }
    banner.hidden = false;
  }
  function typed() {
    if (Date.now() - lastPing >= PING_EVERY && Date.now() < deadline) ping();
  }
  document.addEventListener("input", typed);
  document.addEventListener("change", typed);
  if (button) button.addEventListener("click", function () { ping(); });
  setInterval(check, 5000);
  check();
})();

// Text areas with a limit: the "Up to 4,000 characters." under the field becomes a live
// count ("1,234 of 4,000 characters"), and near the limit the characters left are
// announced politely (once typing pauses, so a screen reader is not talked over). The
// limit is enforced by the server, which keeps the text and says so beside the field;
// nothing here cuts what was typed. Without this file the limit is still shown.
(function () {
  "use strict";
  var areas = document.querySelectorAll("textarea[data-maxlength]");
  if (!areas.length) return;
  function number(n) {
    return n.toLocaleString("en");
  }
  // Counted as the server counts: code points, and a line break as the two characters
  // (CR LF) a browser sends for it.
  function length(text) {
    return Array.from(text).length + (text.match(/\n/g) || []).length;
  }
  Array.prototype.forEach.call(areas, function (area) {
    var max = parseInt(area.getAttribute("data-maxlength"), 10);
    var counter = document.getElementById(area.id + "-limit");
    if (!max || !counter) return;
    var live = document.createElement("span");
    live.className = "visually-hidden";
    live.setAttribute("aria-live", "polite");
    counter.parentNode.insertBefore(live, counter.nextSibling);
    var near = Math.max(20, Math.round(max / 10));
    var timer = null;
    function update(announce) {
      var used = length(area.value);
      var left = max - used;
      counter.textContent =
        number(used) + " of " + number(max) + " characters" +
        (left < 0 ? ": " + number(-left) + " too many" : "");
      counter.classList.toggle("over", left < 0);
      if (!announce) return;
      window.clearTimeout(timer);
      timer = window.setTimeout(function () {
        if (left > near) live.textContent = "";
        else if (left >= 0) live.textContent = number(left) + " characters left";
        else live.textContent = number(-left) + " characters over the limit";
      }, 1000);
    }
    area.addEventListener("input", function () { update(true); });
    update(false);
  });
})();

// A session note saves itself as a draft while the therapist types: 30 s after a change,
// the form is posted in the background (action=autosave) with the draft's version, and
// the version the server answers is kept for the next save, so "Save draft" and "Save
// and sign" go on from it. If the draft was changed elsewhere (409), saving on its own
// stops and the page says so: "Save draft" then shows both versions, as without this.
(function () {
  "use strict";
  var form = document.querySelector("form[data-note-autosave]");
  if (!form || !window.fetch || !window.FormData) return;
  var EVERY = 30 * 1000;
  var status = form.querySelector(".note-autosave-status");
  var version = form.querySelector("input[name=version]");
  var changed = false;
  var sending = null;
  var stopped = false;
  var waitingSubmit = null;
  function say(text) { if (status) status.textContent = text; }
  function save() {
    if (!changed || sending || stopped) return;
    changed = false;
    var data = new FormData(form);
    data.set("action", "autosave");
    sending = fetch(form.getAttribute("data-note-autosave"), {
      method: "POST", body: data, credentials: "same-origin", redirect: "manual",
      headers: { "X-Requested-With": "fetch", "Accept": "application/json" }
    }).then(function (response) {
      var json = (response.headers.get("Content-Type") || "").indexOf("json") >= 0;
      return (json ? response.json() : Promise.resolve(null)).then(function (answer) {
        if (response.ok && answer && answer.saved) {
          if (version) version.value = String(answer.version);
          say("Draft saved automatically at " + new Date().toTimeString().slice(0, 5) + ".");
        } else if (answer && answer.conflict) {
          stopped = true;
          say(answer.message);
        } else {
          changed = true;
          say(answer && answer.message ? answer.message :
            "Not saved automatically (perhaps you were signed out). Your text is still " +
            "here: press “Save draft”; it is kept even if you have to sign in again.");
        }
      });
    }, function () {
      changed = true;
      say("No connection right now. Your text is still here; it will be saved when you press “Save draft”.");
    }).then(function () {
      sending = null;
      if (waitingSubmit) {
        var submitter = waitingSubmit;
        waitingSubmit = null;
        if (form.requestSubmit) form.requestSubmit(submitter); else form.submit();
      }
    });
  }
  form.addEventListener("input", function () { changed = true; });
  form.addEventListener("change", function () { changed = true; });
  // A save in the background changes the draft's version: a button pressed meanwhile
  // waits for its answer, so that it goes on from the new version (not a conflict).
  form.addEventListener("submit", function (event) {
    stopped = true;
    if (sending) {
      event.preventDefault();
      waitingSubmit = event.submitter || form.querySelector("button[value=save]");
    }
  });
  setInterval(save, EVERY);
})();
