/* Kessai embed — put the hosted checkout in an iframe on your page.
 *
 *   <div id="checkout"></div>
 *   <script src="https://pay.example.com/static/embed.js"></script>
 *   <script>
 *     Kessai.mount("#checkout", { url: session.url })   // session from your server
 *       .on("kessai:complete", function (event) { window.location.assign(event.return_url); });
 *   </script>
 *
 * Options: url (required: the session's url), origin (Kessai's origin; default: url's origin),
 * height (initial px, default 640), title, onEvent / onComplete / onCancel (callbacks).
 * Events (docs/embedding.md): kessai:ready, kessai:resize, kessai:complete, kessai:cancel,
 * kessai:expired — each {type, version, session_id, …}. They also fire as DOM CustomEvents on
 * the element (event.detail). Without your own complete/cancel handler the top window goes to
 * the return_url / cancel_url. Messages from any other window or origin are ignored.
 */
(function (global) {
  "use strict";
  var ALLOW = "publickey-credentials-get *; publickey-credentials-create *; payment *";
  var MAX_HEIGHT = 20000;

  function mount(target, options) {
    var element = typeof target === "string" ? document.querySelector(target) : target;
    if (!element) throw new Error("Kessai.mount: element not found");
    options = options || {};
    if (!options.url) throw new Error("Kessai.mount: options.url is required");
    var url = new URL(options.url, global.location.href);
    var origin = options.origin ? new URL(options.origin).origin : url.origin;
    var sessionMatch = url.pathname.match(/\/pay\/([^/]+)/);
    var sessionId = sessionMatch ? decodeURIComponent(sessionMatch[1]) : null;

    var iframe = document.createElement("iframe");
    iframe.src = url.href;
    iframe.title = options.title || "Checkout";
    iframe.setAttribute("allow", ALLOW);
    iframe.style.display = "block";
    iframe.style.width = "100%";
    iframe.style.border = "0";
    iframe.style.height = (options.height || 640) + "px";

    var listeners = {};
    var handle = {
      iframe: iframe,
      on: function (type, callback) {
        (listeners[type] = listeners[type] || []).push(callback);
        return handle;
      },
      destroy: function () {
        global.removeEventListener("message", receive);
        if (iframe.parentNode) iframe.parentNode.removeChild(iframe);
      }
    };
    if (options.onEvent) handle.on("*", options.onEvent);
    if (options.onComplete) handle.on("kessai:complete", options.onComplete);
    if (options.onCancel) handle.on("kessai:cancel", options.onCancel);

    function isWebUrl(value) {
      return typeof value === "string" && /^https?:\/\//i.test(value);
    }

    function receive(event) {
      if (event.source !== iframe.contentWindow || event.origin !== origin) return;
      var data = event.data;
      if (!data || typeof data.type !== "string" || data.type.indexOf("kessai:") !== 0) return;
      if (sessionId && data.session_id !== sessionId) return;
      if (data.type === "kessai:resize" && typeof data.height === "number" && data.height > 0) {
        iframe.style.height = Math.min(Math.ceil(data.height), MAX_HEIGHT) + "px";
      }
      var own = listeners[data.type] || [];
      own.concat(listeners["*"] || []).forEach(function (callback) { callback(data); });
      element.dispatchEvent(new CustomEvent(data.type, { detail: data, bubbles: true }));
      if (own.length) return;
      if (data.type === "kessai:complete" && isWebUrl(data.return_url)) {
        global.location.assign(data.return_url);
      } else if (data.type === "kessai:cancel" && isWebUrl(data.cancel_url)) {
        global.location.assign(data.cancel_url);
      }
    }

    global.addEventListener("message", receive);
    element.appendChild(iframe);
    return handle;
  }

  global.Kessai = { mount: mount, allow: ALLOW, version: 1 };
})(window);
