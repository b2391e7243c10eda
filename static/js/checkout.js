// Progressive help for the hosted page; everything works without it (the server decides).
(function () {
  "use strict";
  var brands = [["amex", /^3[47]/], ["jcb", /^35(2[89]|[3-8])/], ["diners", /^3(0[0-5]|095|6|[89])/],
    ["mastercard", /^(5[1-5]|2(22[1-9]|2[3-9]|[3-6]|7[01]|720))/], ["visa", /^4/]];

  function luhn(digits) {
    var sum = 0;
    for (var i = 0; i < digits.length; i++) {
      var d = +digits[digits.length - 1 - i];
      if (i % 2) { d *= 2; if (d > 9) d -= 9; }
      sum += d;
    }
    return sum % 10 === 0;
  }

  // Show or clear a field's error the way the server renders it (aria-invalid + describedby).
  function setError(input, message) {
    var box = document.getElementById(input.id + "-error");
    if (!box) return;
    var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
      return id && id !== box.id;
    });
    box.textContent = message || "";
    box.hidden = !message;
    input.closest(".field").classList.toggle("field--invalid", !!message);
    if (message) { ids.unshift(box.id); input.setAttribute("aria-invalid", "true"); }
    else input.removeAttribute("aria-invalid");
    if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
    else input.removeAttribute("aria-describedby");
  }

  // A first check when the shopper leaves a field (texts come from the server, localized).
  function check(input) {
    var form = input.form, value = input.value.replace(/\D/g, "");
    if (!form || !form.hasAttribute("data-card-form") || !input.value.trim()) return;
    if (input.name === "card_number") {
      setError(input, value.length >= 12 && luhn(value) ? "" : form.dataset.invalidNumber);
    } else if (input.name === "card_expiry") {
      var month = +value.slice(0, 2), year = 2000 + +value.slice(2, 4), now = new Date();
      if (value.length !== 4 || month < 1 || month > 12) setError(input, form.dataset.invalidExpiry);
      else if (year * 12 + month < now.getFullYear() * 12 + now.getMonth() + 1) setError(input, form.dataset.expiredCard);
      else setError(input, "");
    }
  }

  function onInput(event) {
    var input = event.target;
    if (input.name === "card_number") {
      var atEnd = input.selectionStart === input.value.length;
      var digits = input.value.replace(/\D/g, "").slice(0, 19);
      if (atEnd) input.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");  // don't jump the caret
      var found = brands.find(function (b) { return b[1].test(digits); });
      document.querySelectorAll("[data-brand]").forEach(function (el) {
        el.classList.toggle("is-detected", !!found && el.dataset.brand === found[0]);
      });
    } else if (input.name === "card_expiry" && event.inputType !== "deleteContentBackward") {
      var d = input.value.replace(/\D/g, "").slice(0, 4);
      input.value = d.length > 2 ? d.slice(0, 2) + "/" + d.slice(2) : d;
    }
    if (input.getAttribute("aria-invalid") === "true") check(input);  // clear once fixed
  }

  // htmx disables the button itself (hx-disabled-elt); a plain post needs this guard.
  function onSubmit(event) {
    var form = event.target, button = form.querySelector("[data-pay-button]");
    if (!button || (window.htmx && form.hasAttribute("data-hx-post"))) return;
    if (button.classList.contains("is-busy")) { event.preventDefault(); return; }
    button.classList.add("is-busy");
  }

  function connectionError(show) {
    var box = document.querySelector("[data-connection-error]");
    if (box) box.hidden = !show;
  }

  document.addEventListener("input", onInput);
  document.addEventListener("change", function (event) { check(event.target); });
  document.addEventListener("submit", onSubmit);
  document.addEventListener("htmx:beforeRequest", function () { connectionError(false); });
  document.addEventListener("htmx:sendError", function () { connectionError(true); });
  document.addEventListener("htmx:responseError", function (event) {
    if (event.detail.elt.matches("form")) connectionError(true);
  });
  // Back/forward cache: a page restored after a plain post must be usable again.
  window.addEventListener("pageshow", function () {
    document.querySelectorAll(".pay-button.is-busy").forEach(function (b) { b.classList.remove("is-busy"); });
  });
  // Tell the server the shopper's zone once, so deadlines and rates show in their own time.
  // Temporal answers at once; the older way (Intl) loads the browser's zone and locale data
  // on its first call — ~25 ms here, about four times that on a mid-range phone — so it waits
  // for an idle moment instead of lengthening the scripts' start-up task (Lighthouse counted
  // it as blocking time). Either way the cookie is there for the shopper's next request.
  function zoneName() {
    if (window.Temporal && Temporal.Now && Temporal.Now.timeZoneId) return Temporal.Now.timeZoneId();
    return Intl.DateTimeFormat().resolvedOptions().timeZone;
  }
  function rememberZone() {
    if (document.cookie.indexOf("kessai_tz=") !== -1) return;
    try {
      var zone = zoneName();
      if (zone) document.cookie = "kessai_tz=" + encodeURIComponent(zone) + ";path=/;max-age=2592000;samesite=lax";
    } catch (e) { /* neither: the server uses the market's zone */ }
  }
  if (window.Temporal) rememberZone();
  else if (window.requestIdleCallback) requestIdleCallback(rememberZone, {timeout: 2000});
  else setTimeout(rememberZone, 500);
  document.addEventListener("submit", rememberZone, true);  // a post sooner than that
})();
