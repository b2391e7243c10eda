// The rate lock's countdown (widgets/rate_ticker). The page works without it: the lock's end is
// also written as a clock time, and the server refuses a payment against an expired lock.
// When the countdown reaches zero it asks the rate ticker to check at once; the server then
// reloads the page, which re-quotes and says what changed before the shopper can pay.
(function () {
  "use strict";
  function format(seconds) {
    var h = Math.floor(seconds / 3600), m = Math.floor((seconds % 3600) / 60), s = seconds % 60;
    var mm = h ? (m < 10 ? "0" + m : String(m)) : String(m);
    return (h ? h + ":" : "") + mm + ":" + (s < 10 ? "0" + s : String(s));
  }
  function expired() {
    var ticker = document.getElementById("rate-ticker");
    if (ticker && window.htmx) {
      window.htmx.trigger(ticker, "fx-expired");
    } else {
      window.location.reload();
    }
  }
  function tick() {
    var now = Date.now();
    document.querySelectorAll("[data-fx-countdown]").forEach(function (el) {
      // Each element counts from when this page received it (htmx swaps bring fresh ones).
      if (!el.fxDeadline) { el.fxDeadline = now + Number(el.dataset.seconds || 0) * 1000; }
      var left = Math.max(0, Math.round((el.fxDeadline - now) / 1000));
      var text = format(left);
      if (el.textContent !== text) { el.textContent = text; }
      if (left === 0 && !el.fxExpired) { el.fxExpired = true; expired(); }
    });
  }
  if (!window.kessaiFxCountdown) {
    window.kessaiFxCountdown = window.setInterval(tick, 1000);
  }
})();
