// One-line embed: <script src="http://HOST:PORT/widget.js" defer></script>
// Adds a floating chat bubble that opens our widget page (beside this script) in an iframe. Optional attributes on the tag:
// data-mode="extractive|llm", data-position="left|right", data-open="true", and filters on what it
// may cite: data-date-from="YYYY-MM-DD", data-date-to="YYYY-MM-DD", data-publisher="A,B", data-source="2024/".
(function () {
  "use strict";
  var script = document.currentScript;
  if (!script || window.__sangsaengQaWidget) return;
  window.__sangsaengQaWidget = true;
  // the widget page sits beside this script: behind a proxy at https://host/qa/ that is /qa/widget
  var page = new URL("widget", new URL(script.src, location.href));
  var mode = script.getAttribute("data-mode");
  var side = script.getAttribute("data-position") === "left" ? "left" : "right";
  var query = new URLSearchParams();
  if (mode) query.set("mode", mode);
  [["data-date-from", "date_from"], ["data-date-to", "date_to"]].forEach(function (pair) {
    var value = script.getAttribute(pair[0]);
    if (value) query.set(pair[1], value);
  });
  [["data-publisher", "publisher"], ["data-source", "source"]].forEach(function (pair) {
    (script.getAttribute(pair[0]) || "").split(",").forEach(function (value) {
      if (value.trim()) query.append(pair[1], value.trim());
    });
  });
  var src = page.href + (query.toString() ? "?" + query.toString() : "");

  var button = document.createElement("button");
  button.type = "button";
  button.id = "sangsaeng-qa-bubble";
  button.setAttribute("aria-label", "상생협력 Q&A 열기");
  var ICON_CHAT = '<svg width="28" height="28" viewBox="0 0 24 24" fill="#fff" aria-hidden="true"><path d="M4 4h16a2 2 0 0 1 2 2v10a2 2 0 0 1-2 2H9l-5 4v-4a2 2 0 0 1-2-2V6a2 2 0 0 1 2-2z"/></svg>';
  var ICON_CLOSE = '<svg width="24" height="24" viewBox="0 0 24 24" stroke="#fff" stroke-width="2.5" aria-hidden="true"><path d="M5 5l14 14M19 5L5 19"/></svg>';
  button.innerHTML = ICON_CHAT;  // constant markup of ours, no outside text
  button.style.cssText = "position:fixed;bottom:20px;" + side + ":20px;width:56px;height:56px;border-radius:50%;border:none;" +
    "background:#1d4ed8;color:#fff;display:flex;align-items:center;justify-content:center;cursor:pointer;box-shadow:0 4px 14px rgba(0,0,0,.25);z-index:2147483646";

  var frame = null;
  function toggle() {
    if (!frame) {
      frame = document.createElement("iframe");
      frame.id = "sangsaeng-qa-frame";
      frame.src = src;
      frame.title = "상생협력 Q&A";
      frame.style.cssText = "position:fixed;bottom:88px;" + side + ":20px;width:380px;height:560px;max-width:calc(100vw - 40px);" +
        "max-height:calc(100vh - 110px);border:1px solid #d1d5db;border-radius:12px;background:#fff;" +
        "box-shadow:0 8px 30px rgba(0,0,0,.2);z-index:2147483647";
      document.body.appendChild(frame);
      button.innerHTML = ICON_CLOSE;
      return;
    }
    var hidden = frame.style.display === "none";
    frame.style.display = hidden ? "block" : "none";
    button.innerHTML = hidden ? ICON_CLOSE : ICON_CHAT;
  }
  button.addEventListener("click", toggle);
  function mount() {
    document.body.appendChild(button);
    if (script.getAttribute("data-open") === "true") toggle();
  }
  function mountWhenReady() {
    if (document.body) mount(); else document.addEventListener("DOMContentLoaded", mount);
  }
  // A page whose origin the server does not list (app.allowed_origins) may not frame the widget: its bubble
  // opened a browser error page. The server answers such an origin without CORS, so this fetch fails, and a
  // second, opaque one that succeeds tells that refusal apart: then no bubble, and the console says why. When
  // both fail (the page's own CSP forbids fetching us, but may allow our frame) the bubble is shown as before.
  var health = new URL("health", page).href;
  fetch(health, { credentials: "omit" }).then(mountWhenReady, function () {
    fetch(health, { mode: "no-cors", credentials: "omit" }).then(function () {
      console.warn("sangsaeng-qa widget: this page's origin " + location.protocol + "//" + location.host + " is not in " +
        "the server's allowed origins (setting app.allowed_origins), so the widget is not shown here");
    }, mountWhenReady);
  });
})();
