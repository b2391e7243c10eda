// Japanese forms: フリガナ becomes full-width katakana and phone digits half-width as you type,
// and 7 postal-code digits fill 都道府県 / 市区町村 / 町域. The server does the same checks; the
// form works without this file (the 「住所を検索」 button posts to the look-up instead).
(function () {
  "use strict";
  function toKatakana(text) {
    // NFKC turns half-width kana (ｶﾞ) into full-width (ガ); hiragana shift by 0x60 to katakana.
    return text.normalize("NFKC").replace(/[\u3041-\u3096]/g, function (c) {
      return String.fromCharCode(c.charCodeAt(0) + 0x60);
    });
  }
  function halfWidthDigits(text) {
    return text.replace(/[０-９]/g, function (c) { return String.fromCharCode(c.charCodeAt(0) - 0xFEE0); })
      .replace(/[－ー―‐]/g, "-");
  }
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (input.dataset && input.dataset.kana === "katakana") input.value = toKatakana(input.value);
  });
  document.addEventListener("input", function (event) {
    var input = event.target;
    if (!input.dataset) return;
    if (input.dataset.digits === "phone" && !event.isComposing) input.value = halfWidthDigits(input.value);
    if (input.dataset.postalCode) lookupPostal(input);
  });
  document.addEventListener("compositionend", function (event) {
    var input = event.target;
    if (input.dataset && input.dataset.postalCode) lookupPostal(input);
  });

  var lastLookup = "";
  function lookupPostal(input) {
    var digits = halfWidthDigits(input.value).replace(/\D/g, "");
    if (digits.length !== 7 || digits === lastLookup) return;
    lastLookup = digits;
    var fieldset = input.closest("[data-postal-lookup]");
    if (!fieldset) return;
    fetch(fieldset.dataset.postalLookup + digits, {headers: {"Accept": "application/json"}})
      .then(function (response) { return response.ok ? response.json() : null; })
      .then(function (address) {
        if (!address) return;
        input.value = address.postal_code;
        var form = input.form;
        form.elements.prefecture.value = address.prefecture;
        form.elements.city.value = address.city;
        var line1 = form.elements.address_line1;
        if (!line1.value || line1.dataset.filled === line1.value) {
          line1.value = address.town;
          line1.dataset.filled = address.town;
        }
        line1.focus();
        line1.setSelectionRange(line1.value.length, line1.value.length);
      })
      .catch(function () { /* offline or blocked: the shopper types the address */ });
  }
  // Without this script the button posts the form to the server's look-up; with it, not needed.
  function hideLookupButtons() {
    document.querySelectorAll("[data-postal-button]").forEach(function (button) { button.hidden = true; });
  }
  hideLookupButtons();
  document.addEventListener("htmx:afterSettle", hideLookupButtons);  // forms swapped in later
})();
