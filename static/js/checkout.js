// Progressive help for the hosted page; everything works without it.
(function () {
  "use strict";
  var brands = [["amex", /^3[47]/], ["jcb", /^35(2[89]|[3-8])/], ["diners", /^3(0[0-5]|095|6|[89])/],
    ["mastercard", /^(5[1-5]|2(2[2-9]|[3-6]|7[01]|720))/], ["visa", /^4/]];
  function onInput(event) {
    var input = event.target;
    if (input.name === "card_number") {
      var digits = input.value.replace(/\D/g, "").slice(0, 19);
      input.value = digits.replace(/(\d{4})(?=\d)/g, "$1 ");
      var found = brands.find(function (b) { return b[1].test(digits); });
      document.querySelectorAll("[data-brand]").forEach(function (el) {
        el.classList.toggle("is-detected", !!found && el.dataset.brand === found[0]);
      });
    } else if (input.name === "card_expiry" && event.inputType !== "deleteContentBackward") {
      var d = input.value.replace(/\D/g, "").slice(0, 4);
      input.value = d.length > 2 ? d.slice(0, 2) + "/" + d.slice(2) : d;
    }
  }
  function onSubmit(event) {
    var button = event.target.querySelector("[data-pay-button]");
    if (!button) return;
    if (button.classList.contains("is-busy")) { event.preventDefault(); return; }  // no double submit
    button.classList.add("is-busy");
  }
  document.addEventListener("input", onInput);
  document.addEventListener("submit", onSubmit);
  // Tell the server the shopper's zone once, so deadlines show in their own time.
  try {
    var zone = Intl.DateTimeFormat().resolvedOptions().timeZone;
    if (zone && document.cookie.indexOf("kessai_tz=") === -1) {
      document.cookie = "kessai_tz=" + encodeURIComponent(zone) + ";path=/;max-age=2592000;samesite=lax";
    }
  } catch (e) { /* no Intl: the server uses the market's zone */ }
})();
