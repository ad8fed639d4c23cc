// Drafts: keep a form in the laptop's store as it is typed (docs/field-app.md, "Drafts").
// Any <form data-draft-kind="beneficiary|visit|request" data-draft-record="ID"> with a
// hidden input name="draft_id" is saved as JSON to data-draft-url (default /draf/simpan)
// ~500 ms after the last key, and once more (keepalive) when the page is hidden or left.
// The address gains ?draft=ID after the first save, so a reload, the back button or the
// unlock page brings the same draft back. Without JS the form's own POST keeps it.
(function () {
  "use strict";
  var DELAY = 500;
  var meta = document.querySelector('meta[name="csrf-token"]');
  var token = meta ? meta.getAttribute("content") : "";

  function values(form) {
    var out = {};
    var data = new FormData(form);
    data.forEach(function (value, name) {
      if (name === "csrf_token" || name.indexOf("draft_") === 0 || typeof value !== "string") { return; }
      if (Object.prototype.hasOwnProperty.call(out, name)) {
        if (!Array.isArray(out[name])) { out[name] = [out[name]]; }
        out[name].push(value);
      } else {
        out[name] = value;
      }
    });
    // a checkbox group with nothing ticked is still "chosen: none", not "untouched"
    Array.prototype.forEach.call(form.querySelectorAll('input[type="checkbox"][name]'), function (box) {
      if (!Object.prototype.hasOwnProperty.call(out, box.name)) { out[box.name] = []; }
      else if (!Array.isArray(out[box.name])) { out[box.name] = [out[box.name]]; }
    });
    return out;
  }

  function setup(form) {
    var idInput = form.querySelector('input[name="draft_id"]');
    if (!idInput) { return; }
    var status = form.querySelector("[data-draft-status]");
    var url = form.getAttribute("data-draft-url") || "/draf/simpan";
    var timer = null;
    var dirty = false;
    var stopped = false;
    var lastSent = null;
    var inflight = false;
    // increasing across reloads of the page too: the app ignores an older save arriving late
    var seq = Date.now() * 1000;

    function say(text, bad) {
      if (!status) { return; }
      status.textContent = text;
      status.classList.toggle("draft-bad", !!bad);
    }

    function body() {
      return JSON.stringify({
        draft_id: idInput.value,
        kind: form.getAttribute("data-draft-kind"),
        record_id: form.getAttribute("data-draft-record") || null,
        fields: values(form)
      });
    }

    function remember() {
      if (!window.history.replaceState) { return; }
      var here = new URL(window.location.href);
      if (here.searchParams.get("draft") === idInput.value) { return; }
      here.searchParams.set("draft", idInput.value);
      window.history.replaceState(window.history.state, "", here.toString());
    }

    function save(keepalive) {
      if (timer) { window.clearTimeout(timer); timer = null; }
      if (stopped || !dirty) { return; }
      if (inflight && !keepalive) { return; }  // sent again when the one in flight is answered
      var payload = body();
      if (payload === lastSent) { dirty = false; done(); return; }
      dirty = false;
      inflight = true;
      seq += 1;
      say(status ? status.getAttribute("data-saving") : "", false);
      fetch(url, {
        method: "POST",
        credentials: "same-origin",
        keepalive: !!keepalive,
        redirect: "manual",
        headers: { "Content-Type": "application/json", "X-CSRFToken": token },
        body: payload.slice(0, -1) + ',"seq":' + seq + "}"
      }).then(function (r) {
        if (r.status === 409) { stopped = true; return null; }
        if (!r.ok || (r.headers.get("Content-Type") || "").indexOf("json") < 0) {
          throw new Error("not saved");
        }
        return r.json();
      }).then(function (answer) {
        inflight = false;
        if (!answer) { return; }
        lastSent = payload;
        remember();
        var at = new Date();
        var hh = ("0" + at.getHours()).slice(-2), mm = ("0" + at.getMinutes()).slice(-2);
        say((status ? status.getAttribute("data-saved") : "") + " " + hh + ":" + mm, false);
        if (dirty) { save(false); } else { done(); }
      }).catch(function () {
        inflight = false;
        dirty = true;  // try again on the next key, or when the page is hidden
        say(status ? status.getAttribute("data-failed") : "", true);
      });
    }

    // the form as it is now is in the store (tests and the status line read this)
    function done() { form.setAttribute("data-draft-saved", String(seq)); }

    function typed() {
      if (stopped) { return; }
      dirty = true;
      form.removeAttribute("data-draft-saved");
      if (timer) { window.clearTimeout(timer); }
      timer = window.setTimeout(function () { save(false); }, DELAY);
    }

    form.addEventListener("input", typed);
    form.addEventListener("change", typed);
    form.addEventListener("submit", function () {
      // the POST itself keeps the draft, then saves the record: no autosave after it
      if (timer) { window.clearTimeout(timer); timer = null; }
      stopped = true;
    });
    document.addEventListener("visibilitychange", function () {
      if (document.visibilityState === "hidden") { save(true); }
    });
    window.addEventListener("pagehide", function () { save(true); });
  }

  Array.prototype.forEach.call(document.querySelectorAll("form[data-draft-kind]"), setup);
})();
