// Wallet forms: tell the server whether this is a phone (the wallet app opens by redirect) or a
// computer (a QR code to scan). Set when the form is sent, so forms swapped in by htmx count
// too. Without this file the field stays empty and the server redirects.
(function () {
  "use strict";
  function device() {
    if (!window.matchMedia) return "unknown";
    return window.matchMedia("(pointer: coarse)").matches ? "phone" : "desktop";
  }
  // Capture phase: runs before htmx reads the form on the same submit event.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.querySelectorAll) return;
    form.querySelectorAll("input[data-device]").forEach(function (input) { input.value = device(); });
  }, true);
})();
