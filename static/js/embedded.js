// Inside a merchant's iframe (static/embed.js): tell the merchant's page what happens, by
// postMessage to the merchant's registered origins only (the browser drops a message whose
// target origin is not the parent's). Loaded only on checkout pages that may be framed.
(function () {
  "use strict";
  if (window.parent === window) return;
  var config = null;
  try { config = JSON.parse(document.body.getAttribute("data-kessai-embed")); } catch (e) { return; }
  if (!config || !config.origins || !config.origins.length) return;

  function send(type, extra) {
    var message = { type: type, version: 1, session_id: config.session_id };
    Object.keys(extra || {}).forEach(function (key) { message[key] = extra[key]; });
    config.origins.forEach(function (origin) { window.parent.postMessage(message, origin); });
  }

  // The server keeps a framed shopper on Kessai's result page (see checkout/embed.py).
  document.addEventListener("htmx:configRequest", function (event) {
    event.detail.headers["Kessai-Embedded"] = "1";
  });

  var lastHeight = 0;
  function resize() {
    var height = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (height && height !== lastHeight) { lastHeight = height; send("kessai:resize", { height: height }); }
  }
  if (window.ResizeObserver) new ResizeObserver(resize).observe(document.documentElement);
  window.addEventListener("load", resize);

  // Leaving for the merchant's pages happens in the top window, not inside the frame.
  document.addEventListener("click", function (event) {
    var link = event.target.closest && event.target.closest("a[href]");
    if (!link) return;
    if (link.getAttribute("href") === "/pay/" + config.session_id + "/cancel") {
      send("kessai:cancel", { cancel_url: config.cancel_url || null });
    } else if (link.origin !== window.location.origin) {
      link.target = "_top";
    }
  });

  send("kessai:ready", { status: config.status, payment_status: config.payment_status });
  resize();
  if (config.status === "complete") {
    send("kessai:complete", { status: config.status, payment_status: config.payment_status,
                              return_url: config.return_url });
  } else if (config.status === "expired") {
    send("kessai:expired", { status: config.status });
  }
})();
