/* Passkeys (checkout/returning): create one after "remember me", sign a returning shopper in
   (a button, or the browser's own offer in the e-mail field: conditional mediation), and
   confirm one payment. Every challenge comes from the server and goes back to it; the server
   decides. Where the browser cannot, the buttons stay hidden and the normal form is all. */
(function () {
  "use strict";
  var PKC = window.PublicKeyCredential;
  if (!PKC || !PKC.parseCreationOptionsFromJSON || !PKC.parseRequestOptionsFromJSON) return;

  function token() {
    try { return JSON.parse(document.body.dataset.hxHeaders || "{}")["X-CSRF-Token"] || ""; }
    catch (e) { return ""; }
  }

  function post(url, body) {
    var headers = {"Content-Type": "application/json", "X-CSRF-Token": token(), "HX-Request": "true"};
    // In a merchant's frame the server keeps the shopper on Kessai's result page (embed.py),
    // as it does for htmx's own requests (embedded.js).
    if (window.parent !== window && document.body.hasAttribute("data-kessai-embed")) {
      headers["Kessai-Embedded"] = "1";
    }
    return fetch(url, {method: "POST", credentials: "same-origin", headers: headers,
                       body: JSON.stringify(body || {})});
  }

  function follow(response, control) {
    var target = response.headers.get("HX-Redirect");
    if (target) { window.location.assign(target); return; }
    if (!response.ok) throw new Error("refused");
    window.location.reload();
  }

  function failed(control) {
    var box = control.closest("[data-returning], .result, .account, .returning-sign-in") || document;
    var error = box.querySelector("[data-passkey-error]");
    if (error) error.hidden = false;
    control.disabled = false;
  }

  var conditional = null;  // the browser's own offer, cancelled when a button asks instead

  function getCredential(options, mediation) {
    var request = {publicKey: PKC.parseRequestOptionsFromJSON(options)};
    if (mediation) { conditional = new AbortController(); request.mediation = mediation; request.signal = conditional.signal; }
    else if (conditional) { conditional.abort(); conditional = null; }
    return navigator.credentials.get(request);
  }

  function signIn(control, mediation) {
    return post(control.dataset.options).then(function (r) { return r.json(); })
      .then(function (options) { return getCredential(options, mediation); })
      .then(function (credential) { return post(control.dataset.verify, credential.toJSON()); })
      .then(function (response) {
        var type = response.headers.get("Content-Type") || "";
        if (!response.ok || response.headers.get("HX-Redirect") || type.indexOf("text/html") !== 0) {
          return follow(response, control);
        }
        // The returning box for this page (a frame may keep no cookie: the box carries it).
        return response.text().then(function (html) {
          var box = new DOMParser().parseFromString(html, "text/html").querySelector("[data-returning]");
          if (!box) throw new Error("no box");
          box.hidden = false;
          var place = control.closest(".returning-sign-in") || control;
          place.replaceWith(document.importNode(box, true));
        });
      });
  }

  var actions = {
    passkeyRegister: function (control) {
      return post(control.dataset.options).then(function (r) { return r.json(); })
        .then(function (options) {
          return navigator.credentials.create({publicKey: PKC.parseCreationOptionsFromJSON(options)});
        })
        .then(function (credential) { return post(control.dataset.verify, credential.toJSON()); })
        .then(function (response) { follow(response, control); });
    },
    passkeySignin: function (control) { return signIn(control, null); },
    passkeyPay: function (control) {
      var card = control.dataset.card;
      return post(control.dataset.options, {card: card, ticket: control.dataset.ticket}).then(function (r) {
        if (!r.ok) throw new Error("no challenge");
        return r.json();
      })
        .then(function (options) { return getCredential(options, null); })
        .then(function (credential) {
          return post(control.dataset.verify,
            {credential: credential.toJSON(), card: card, attempt: control.dataset.attempt});
        })
        .then(function (response) { follow(response, control); });
    }
  };

  document.addEventListener("click", function (event) {
    var control = event.target.closest("[data-passkey-register], [data-passkey-signin], [data-passkey-pay]");
    if (!control || control.disabled) return;
    event.preventDefault();
    var name = Object.keys(actions).filter(function (key) { return key in control.dataset; })[0];
    control.disabled = true;
    actions[name](control).catch(function () { failed(control); });
  });

  function start() {
    document.querySelectorAll("[data-passkey-only]").forEach(function (el) { el.hidden = false; });
    var button = document.querySelector("[data-passkey-signin]");
    var field = document.querySelector("[data-passkey-autofill]");
    if (button && field && PKC.isConditionalMediationAvailable) {
      PKC.isConditionalMediationAvailable().then(function (available) {
        if (!available) return;
        field.setAttribute("autocomplete", "username webauthn");  // the browser's own offer
        signIn(button, "conditional").catch(function () {});
      });
    }
  }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
