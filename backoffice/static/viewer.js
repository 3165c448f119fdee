// The back office's material viewer (REV-2): zoom and rotate one image, by button or key.
// + or = zooms in, - zooms out, r rotates a quarter turn clockwise, 0 resets, n / p open the next or
// previous material, Escape goes back to the item. Served from this origin: the page's CSP allows
// script-src 'self' and nothing inline, and the image is sized through the CSSOM (style-src 'self').
(function () {
  "use strict";
  var image = document.getElementById("viewer-image");
  var frame = document.getElementById("viewer-frame");
  var status = document.getElementById("viewer-status");
  if (!image || !frame || !status) return;
  var STEPS = [0.25, 0.5, 0.75, 1, 1.5, 2, 3, 4];
  var step = 3; // 100 %
  var turn = 0; // quarter turns clockwise

  // The frame takes the rotated image's size, so the stage scrolls over all of it at any zoom.
  function show() {
    var zoom = STEPS[step];
    var width = Math.round(image.naturalWidth * zoom);
    var height = Math.round(image.naturalHeight * zoom);
    var sideways = turn % 2 === 1;
    frame.classList.add("js");
    frame.style.width = (sideways ? height : width) + "px";
    frame.style.height = (sideways ? width : height) + "px";
    image.style.width = width + "px";
    image.style.height = height + "px";
    image.style.transform = "translate(-50%, -50%) rotate(" + turn * 90 + "deg)";
    image.dataset.zoom = String(zoom);
    image.dataset.rotation = String(turn * 90);
    status.textContent = Math.round(zoom * 100) + " % · " + turn * 90 + "°";
  }

  var actions = {
    "zoom-in": function () { step = Math.min(step + 1, STEPS.length - 1); },
    "zoom-out": function () { step = Math.max(step - 1, 0); },
    "rotate": function () { turn = (turn + 1) % 4; },
    "reset": function () { step = 3; turn = 0; }
  };

  document.querySelectorAll("[data-action]").forEach(function (button) {
    button.addEventListener("click", function () {
      actions[button.dataset.action]();
      show();
    });
  });

  function follow(id) {
    var link = document.getElementById(id);
    if (link) window.location.href = link.href;
  }

  var KEYS = { "+": "zoom-in", "=": "zoom-in", "-": "zoom-out", "_": "zoom-out", "r": "rotate", "R": "rotate", "0": "reset" };
  document.addEventListener("keydown", function (event) {
    if (event.ctrlKey || event.metaKey || event.altKey) return; // the browser's own zoom and access keys
    var target = event.target;
    if (target && /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName)) return;
    if (event.key === "Escape") { follow("viewer-back"); event.preventDefault(); return; }
    if (event.key === "n") { follow("viewer-next"); return; }
    if (event.key === "p") { follow("viewer-prev"); return; }
    var action = KEYS[event.key];
    if (action) {
      actions[action]();
      show();
      event.preventDefault();
    }
  });

  if (image.complete) show(); else image.addEventListener("load", show);
})();
