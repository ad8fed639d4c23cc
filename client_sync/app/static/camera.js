// Photos from the laptop's camera: where getUserMedia exists, "Buka kamera laptop" shows
// the camera; "Ambil foto" takes a frame as a JPEG and adds it to the form's own file
// input (name="foto"), so it is posted with the form like a chosen file, through the same
// check and store code as `pendamping photo add`. Without JS or a camera, the file input
// alone (accept="image/*" capture) takes a file or the system's camera.
(function () {
  "use strict";
  var box = document.querySelector("[data-camera]");
  if (!box) { return; }
  var input = box.querySelector('input[type="file"][name="foto"]');
  var open = box.querySelector("[data-camera-open]");
  var view = box.querySelector("[data-camera-box]");
  var video = box.querySelector("[data-camera-video]");
  var snap = box.querySelector("[data-camera-snap]");
  var close = box.querySelector("[data-camera-close]");
  var status = box.querySelector("[data-camera-status]");
  var thumbs = box.querySelector("[data-camera-thumbs]");
  var stream = null;
  var taken = 0;
  var media = navigator.mediaDevices;
  if (!input || !media || !media.getUserMedia || typeof DataTransfer === "undefined") { return; }
  open.hidden = false;

  function stop() {
    if (stream) { stream.getTracks().forEach(function (t) { t.stop(); }); }
    stream = null;
    view.hidden = true;
    open.hidden = false;
  }
  function add(file) {
    var all = new DataTransfer();
    Array.prototype.forEach.call(input.files, function (f) { all.items.add(f); });
    all.items.add(file);
    input.files = all.files;
    var img = document.createElement("img");
    img.src = URL.createObjectURL(file);
    img.alt = file.name;
    thumbs.appendChild(img);
    var names = Array.prototype.map.call(input.files, function (f) { return f.name; });
    status.textContent = (status.getAttribute("data-taken") || "").replace("{n}", names.join(", "));
  }
  open.addEventListener("click", function () {
    media.getUserMedia({ video: { width: { ideal: 1280 }, height: { ideal: 960 } }, audio: false })
      .then(function (s) {
        stream = s;
        video.srcObject = s;
        view.hidden = false;
        open.hidden = true;
        snap.focus();
      })
      .catch(function () { status.textContent = status.getAttribute("data-failed") || ""; });
  });
  snap.addEventListener("click", function () {
    if (!stream || !video.videoWidth) { return; }
    var canvas = document.createElement("canvas");
    canvas.width = video.videoWidth;
    canvas.height = video.videoHeight;
    canvas.getContext("2d").drawImage(video, 0, 0);
    canvas.toBlob(function (blob) {
      if (!blob) { return; }
      taken += 1;
      var stamp = new Date().toISOString().replace(/[-:]/g, "").slice(0, 15);
      add(new File([blob], "kamera-" + stamp + "-" + taken + ".jpg", { type: "image/jpeg" }));
    }, "image/jpeg", 0.88);
  });
  close.addEventListener("click", stop);
  window.addEventListener("pagehide", stop);
})();
