// Penerima manfaat: search as one types. The page's GET form works without JS; with it,
// each key press (after a short pause) asks /penerima/cari for the hits alone, rendered by
// the server's own template, and the address keeps ?q= so back and reload show the same.
(function () {
  "use strict";
  var form = document.querySelector("form[data-hits-url]");
  var input = form ? form.querySelector('input[name="q"]') : null;
  var hits = document.getElementById("hits");
  if (!form || !input || !hits) { return; }
  var url = form.getAttribute("data-hits-url");
  var timer = null;
  var asked = 0;
  var shown = input.value;

  function search() {
    timer = null;
    var typed = input.value;
    if (typed === shown) { return; }
    var mine = ++asked;
    fetch(url + "?" + new URLSearchParams({ q: typed }).toString(),
          { credentials: "same-origin", cache: "no-store", redirect: "manual" })
      .then(function (r) { if (!r.ok) { throw new Error(String(r.status)); } return r.text(); })
      .then(function (html) {
        if (mine !== asked) { return; }  // an answer to an older key press
        hits.innerHTML = html;
        shown = typed;
        hits.setAttribute("data-q", typed);
        if (window.history.replaceState) {
          var here = new URL(window.location.href);
          if (typed) { here.searchParams.set("q", typed); } else { here.searchParams.delete("q"); }
          window.history.replaceState(window.history.state, "", here.toString());
        }
      })
      .catch(function () { /* the form's own submit still works */ });
  }

  input.addEventListener("input", function () {
    if (timer) { window.clearTimeout(timer); }
    timer = window.setTimeout(search, 150);
  });
  form.addEventListener("submit", function (event) {
    event.preventDefault();
    if (timer) { window.clearTimeout(timer); }
    shown = null;
    search();
  });
})();
