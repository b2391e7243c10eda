// Korean payment forms, made smoother; the server checks everything again and every form
// works without this file:
// * 전체 동의: the master box ticks every item and follows them; the pay button stays disabled
//   until every [필수] item is ticked; 보기 opens the item's text in a dialog.
// * Phone numbers take their hyphens as typed: 010-1234-5678.
// * 할부: the chosen card company's interest-free (무이자) months are marked in the list.
// * SMS receipt: the number field shows only when the box is ticked.
(function () {
  "use strict";

  function consentState(block) {
    var items = block.querySelectorAll("[data-consent-item]");
    var all = block.querySelector("[data-consent-all]");
    var everything = Array.prototype.every.call(items, function (i) { return i.checked; });
    var required = Array.prototype.every.call(block.querySelectorAll("[data-consent-required]"),
      function (i) { return i.checked; });
    if (all) all.checked = everything;
    var form = block.closest("form");
    var button = form && form.querySelector("[data-pay-button]");
    if (button) {
      button.disabled = !required;
      button.setAttribute("aria-describedby", "consent-hint");
    }
    block.classList.toggle("consent--complete", required);
  }

  function formatPhone(value) {
    var d = value.normalize("NFKC").replace(/\D/g, "").slice(0, 11);
    if (d.indexOf("02") === 0) {  // Seoul: 02-123-4567 / 02-1234-5678
      d = d.slice(0, 10);
      if (d.length <= 2) return d;
      if (d.length <= 5) return d.slice(0, 2) + "-" + d.slice(2);
      var mid = d.length === 10 ? 6 : Math.min(d.length, 5);
      return d.slice(0, 2) + "-" + d.slice(2, mid) + (d.length > mid ? "-" + d.slice(mid) : "");
    }
    if (d.length <= 3) return d;
    // 010 numbers are always 3-4-4; older 10-digit numbers 3-3-4 until an 11th digit comes.
    var four = d.indexOf("010") === 0 || d.length === 11;
    var split = four ? 7 : 6;
    if (d.length <= split) return d.slice(0, 3) + "-" + d.slice(3);
    return d.slice(0, 3) + "-" + d.slice(3, split) + "-" + d.slice(split);
  }

  function markInterestFree(select) {
    var form = select.closest("form");
    var plan = form && form.querySelector("[data-kr-instalments]");
    if (!plan) return;
    var chosen = select.options[select.selectedIndex];
    var free = (chosen && chosen.dataset.interestFree || "").split(",");
    Array.prototype.forEach.call(plan.options, function (option) {
      if (!option.dataset.plainLabel) return;
      option.textContent = free.indexOf(option.value) >= 0
        ? plan.dataset.interestFreeLabel.replace("{months}", option.value)
        : option.dataset.plainLabel;
    });
  }

  function toggleSms(box) {
    var wrap = box.closest("[data-sms-receipt]");
    var phone = wrap && wrap.querySelector("[data-sms-phone]");
    if (phone) phone.hidden = !box.checked;
  }

  function init(root) {
    root.querySelectorAll("[data-consent]").forEach(function (block) {
      // A shopper quick enough to tick 전체 동의 before this script ran agreed to everything:
      // honour the tick (the server does, without JavaScript) instead of undoing it.
      var all = block.querySelector("[data-consent-all]");
      if (all && all.checked) {
        block.querySelectorAll("[data-consent-item]").forEach(function (i) { i.checked = true; });
      }
      consentState(block);
    });
    root.querySelectorAll("[data-kr-card-company]").forEach(markInterestFree);
    root.querySelectorAll("[data-sms-toggle]").forEach(toggleSms);
  }

  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.closest) return;
    var block = input.closest("[data-consent]");
    if (block && input.matches("[data-consent-all]")) {
      block.querySelectorAll("[data-consent-item]").forEach(function (i) { i.checked = input.checked; });
    }
    if (block) consentState(block);
    if (input.matches("[data-kr-card-company]")) markInterestFree(input);
    if (input.matches("[data-sms-toggle]")) {
      toggleSms(input);
      var field = input.checked && input.closest("[data-sms-receipt]").querySelector("[data-phone-kr]");
      if (field && !field.value) field.focus();
    }
  });

  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("[data-phone-kr]") || event.isComposing) return;
    if (event.inputType && event.inputType.indexOf("delete") === 0) return;  // let hyphens go
    if (input.selectionStart !== input.value.length) return;  // editing the middle: leave it
    input.value = formatPhone(input.value);
  });

  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("[data-consent-view]");
    if (link) {
      var dialog = document.getElementById(link.dataset.consentView);
      if (dialog && dialog.showModal) { event.preventDefault(); dialog.showModal(); }
      return;
    }
    var close = event.target.closest && event.target.closest("[data-consent-close]");
    if (close) close.closest("dialog").close();
  });

  document.addEventListener("DOMContentLoaded", function () { init(document); });
  document.addEventListener("htmx:load", function (event) { init(event.detail.elt); });
})();
