// A visit's location: when the laptop offers one (navigator.geolocation), the button
// "Ambil lokasi dari laptop" fills the form's lat/lon (the visit schema's location fields;
// it has no accuracy field, so the accuracy is only shown). Without JS, or without a
// location, the two fields are typed by hand or left empty.
(function () {
  "use strict";
  var box = document.querySelector("[data-location]");
  if (!box) { return; }
  var button = box.querySelector("[data-location-take]");
  var status = box.querySelector("[data-location-status]");
  var lat = box.querySelector('input[name="lat"]');
  var lon = box.querySelector('input[name="lon"]');
  function say(key, value) {
    var text = status.getAttribute("data-" + key) || "";
    status.textContent = value === undefined ? text : text.replace("{m}", value);
  }
  if (!("geolocation" in navigator)) { say("none"); return; }
  button.hidden = false;
  function changed(input) {  // let the draft autosave see the new value
    input.dispatchEvent(new Event("input", { bubbles: true }));
  }
  button.addEventListener("click", function () {
    say("asking");
    button.disabled = true;
    navigator.geolocation.getCurrentPosition(function (where) {
      lat.value = where.coords.latitude.toFixed(6);
      lon.value = where.coords.longitude.toFixed(6);
      changed(lat); changed(lon);
      say("found", Math.round(where.coords.accuracy));
      button.disabled = false;
    }, function () {
      say("denied");
      button.disabled = false;
    }, { enableHighAccuracy: true, timeout: 20000, maximumAge: 60000 });
  });
})();
