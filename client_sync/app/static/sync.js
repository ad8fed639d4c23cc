// The Sinkron page's progress: poll the round's JSON and redraw the bar; reload when the
// round has ended so the server renders its outcome. Without JS the page's <noscript>
// meta refresh does the same every 2 seconds.
(function () {
  "use strict";
  var section = document.getElementById("round");
  if (!section) { return; }
  var url = section.getAttribute("data-progress");
  var text = document.getElementById("round-text");
  var bar = document.getElementById("round-bar");
  function tick() {
    fetch(url, { credentials: "same-origin", cache: "no-store" })
      .then(function (r) { return r.json(); })
      .then(function (round) {
        if (!round.running) { window.location.reload(); return; }
        if (text && round.text) { text.textContent = round.text; }
        if (bar) {
          if (round.percent === null) { bar.removeAttribute("value"); }
          else { bar.value = round.percent; }
        }
        window.setTimeout(tick, 700);
      })
      .catch(function () { window.setTimeout(tick, 2000); });
  }
  window.setTimeout(tick, 300);
})();
