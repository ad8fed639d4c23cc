// The NIK checked as it is typed: a count while fewer than 16 digits are typed, then the
// server's reading (/penerima/nik.json: the schema's message, province, birth date and sex,
// what disagrees with the boxes beside it, who on this laptop has the NIK). The block it
// shows is the server's own HTML, the same as after a save without JS. "Isi dari NIK"
// fills the empty birth date and sex.
(function () {
  "use strict";
  var input = document.getElementById("nik");
  var box = document.getElementById("nik-check");
  var form = input ? input.form : null;
  if (!input || !box || !form) { return; }
  var url = form.getAttribute("data-nik-url");
  var timer = null;
  var asked = 0;

  function field(name) { return form.elements.namedItem(name); }
  function value(name) {
    var el = field(name);
    return el ? (el.value || "") : "";
  }

  function invalid(bad) {
    if (bad) { input.setAttribute("aria-invalid", "true"); }
    else { input.removeAttribute("aria-invalid"); }
    input.setAttribute("aria-describedby", bad ? "nik-hint nik-error" : "nik-hint");
  }

  function wireFill() {
    var fill = document.getElementById("nik-fill");
    if (!fill) { return; }
    fill.parentNode.hidden = false;
    fill.addEventListener("click", function () {
      var born = fill.getAttribute("data-birth-date");
      var sex = fill.getAttribute("data-sex");
      var birth = field("birth_date");
      if (born && birth && !birth.value) { birth.value = born; }
      if (sex) {
        var radio = form.querySelector('input[name="sex"][value="' + sex + '"]');
        if (radio && !value("sex")) { radio.checked = true; }
      }
      fill.parentNode.hidden = true;
      form.dispatchEvent(new Event("input", { bubbles: true }));  // keep the draft
      check();
    });
  }

  function check() {
    if (timer) { window.clearTimeout(timer); timer = null; }
    var typed = input.value.replace(/^\s+|\s+$/g, "");
    if (typed === "") { box.innerHTML = ""; invalid(false); return; }
    if (/^[0-9]{1,15}$/.test(typed)) {
      box.innerHTML = "";
      var p = document.createElement("p");
      p.className = "hint";
      p.id = "nik-count";
      p.textContent = (input.getAttribute("data-count") || "%d/16").replace("%d", typed.length);
      box.appendChild(p);
      invalid(false);
      return;
    }
    var q = new URLSearchParams({
      nik: typed, birth_date: value("birth_date"), sex: value("sex"),
      exclude: input.getAttribute("data-exclude") || ""
    });
    var mine = ++asked;
    fetch(url + "?" + q.toString(), { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.json(); })
      .then(function (answer) {
        if (mine !== asked) { return; }  // a later key press is on its way
        box.innerHTML = answer.html;
        invalid(!!answer.error);
        wireFill();
      })
      .catch(function () { /* the save checks it again */ });
  }

  function soon() {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(check, 200);
  }

  input.addEventListener("input", soon);
  input.addEventListener("blur", check);
  ["birth_date", "sex"].forEach(function (name) {
    var el = field(name);
    if (!el) { return; }
    var list = el instanceof RadioNodeList ? Array.prototype.slice.call(el) : [el];
    list.forEach(function (one) { one.addEventListener("change", soon); });
  });
  wireFill();
})();
