// Voucher slips: copy buttons, a live countdown and a print button. The slip works without it.
(function () {
  "use strict";
  var status = document.querySelector("[data-copy-status]");

  function copied(button) {
    button.classList.add("is-copied");
    if (status) { status.textContent = ""; status.textContent = status.dataset.copied; }
    setTimeout(function () { button.classList.remove("is-copied"); }, 2000);
  }

  document.querySelectorAll("[data-copy]").forEach(function (button) {
    if (!navigator.clipboard) return;  // no clipboard API (http on another host): keep hidden
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.dataset.copy).then(function () { copied(button); });
    });
  });

  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });

  // "2 days 5 hours 12 minutes": the server's own wording (one|other forms), kept current.
  function form(element, unit, count) {
    var forms = (element.dataset[unit] || "").split("|");
    var pattern = count === 1 ? forms[0] : (forms[1] || forms[0]);
    return pattern.replace(/\d+/, String(count));
  }
  function tick(element) {
    var value = element.querySelector("[data-countdown-value]");
    var left = Number(element.dataset.countdown) - Math.floor(Date.now() / 1000);
    if (!value) return;
    if (left <= 0) { element.hidden = true; return; }
    var days = Math.floor(left / 86400), hours = Math.floor(left % 86400 / 3600);
    var parts = [];
    if (days) parts.push(form(element, "day", days));
    if (days || hours) parts.push(form(element, "hour", hours));
    parts.push(form(element, "minute", Math.floor(left % 3600 / 60)));
    value.textContent = parts.join(" ");
  }
  document.querySelectorAll("[data-countdown]").forEach(function (element) {
    tick(element);
    setInterval(function () { tick(element); }, 30000);
  });
})();
