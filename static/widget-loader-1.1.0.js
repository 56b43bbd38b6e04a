/* Support appliance chat launcher. Put on the shop's page:
 *   <script src="https://APPLIANCE/static/widget-loader-1.1.0.js" async
 *           data-lang="auto|fa|en" data-position="right|left" data-color="#0b6e4f" data-open="false"></script>
 * A button opens the chat in an iframe served by the appliance; styles are set through the DOM,
 * so the page's CSS and CSP can't break it. First it asks the appliance whether this site may show
 * the chat (/api/v1/embed/status, by the Origin header): where the frame would be refused (a grey
 * page with no way to close it on a phone), nothing is shown and the refusal is reported once a
 * visit, for the owner to allow the site. Not asked (the page's CSP, a network): the button waits
 * for the chat to say it has loaded, and goes when it never does.
 * The loader tells the chat the page's path, query and scroll depth for the shop's proactive
 * messages, shown as a bubble; a page's script may call SupportWidget.trigger("name"), .open(),
 * .close(). 1.1.0: the check. widget-loader-1.0.0.js, on shops' pages, loads this file. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__applianceChat) return;
  window.__applianceChat = true;
  var origin = new URL(me.src).origin;
  var d = me.dataset;
  var lang = /^(fa|en)$/.test(d.lang || "") ? d.lang : (/^fa/i.test(document.documentElement.lang || navigator.language || "") ? "fa" : "en");
  var side = d.position === "left" ? "left" : "right";
  var color = /^#[0-9a-f]{6}$/i.test(d.color || "") ? d.color : "#0b6e4f";
  var label = lang === "fa" ? "گفتگو با پشتیبانی" : "Chat with support";

  var READY_WAIT_MS = 20000;  // how long the chat may take to say it has loaded

  function css(node, rules) { for (var k in rules) node.style.setProperty(k, rules[k], "important"); }

  // May this page's site show the chat? true, false, or null (couldn't ask).
  function ask(answer) {
    var done = false;
    function once(value) { if (!done) { done = true; answer(value); } }
    setTimeout(function () { once(null); }, 8000);
    try {
      fetch(origin + "/api/v1/embed/status", { mode: "cors", credentials: "omit", cache: "no-store" })
        .then(function (r) { return r.ok ? r.json() : null; })
        .then(function (body) { once(body && typeof body.allowed === "boolean" ? body.allowed : null); })
        .catch(function () { once(null); });
    } catch (e) { once(null); }
  }

  function refused() {
    var site = location.origin;
    if (window.console && console.warn) {
      console.warn("Support chat: " + site + " is not an allowed site; the owner can allow it on the admin's home page.");
    }
    var key = "appliance.chat.refused";
    try { if (sessionStorage.getItem(key)) return; sessionStorage.setItem(key, "1"); } catch (e) { /* private mode */ }
    var url = origin + "/api/v1/embed/refusals";
    try {
      if (!(navigator.sendBeacon && navigator.sendBeacon(url, "{}"))) {
        fetch(url, { method: "POST", mode: "no-cors", credentials: "omit", keepalive: true, body: "{}" });
      }
    } catch (e) { /* nothing to do: the page goes on without the chat */ }
  }

  function begin(allowed) {
    if (allowed === false) { refused(); return; }
    start(allowed === true);
  }

  function start(known) {
    var button = document.createElement("button");
    button.type = "button";
    button.setAttribute("aria-label", label);
    button.setAttribute("aria-expanded", "false");
    button.title = label;
    // A drawn icon, not an emoji: not every system has an emoji font.
    var ns = "http://www.w3.org/2000/svg";
    var icon = document.createElementNS(ns, "svg");
    icon.setAttribute("viewBox", "0 0 24 24");
    icon.setAttribute("width", "28");
    icon.setAttribute("height", "28");
    icon.setAttribute("aria-hidden", "true");
    var path = document.createElementNS(ns, "path");
    path.setAttribute("fill", "#fff");
    path.setAttribute("d", "M4 3h16a2 2 0 0 1 2 2v11a2 2 0 0 1-2 2H9l-5 4v-4H4a2 2 0 0 1-2-2V5a2 2 0 0 1 2-2z");
    icon.appendChild(path);
    button.appendChild(icon);
    css(button, { position: "fixed", bottom: "20px", width: "56px", height: "56px", "border-radius": "50%",
      border: "0", background: color, color: "#fff", "font-size": "26px", cursor: "pointer", "z-index": "2147483646",
      "box-shadow": "0 4px 14px rgba(0,0,0,.25)", padding: "0", margin: "0", display: "flex",
      "align-items": "center", "justify-content": "center" });
    button.style.setProperty(side, "20px", "important");
    // Shown at once when the appliance said yes; otherwise once the chat says it has loaded.
    var alive = true, shown = known;
    function showButton(on) {
      shown = on;
      button.style.setProperty("display", on ? "flex" : "none", "important");
    }
    showButton(known);

    var badge = document.createElement("span");
    badge.setAttribute("aria-hidden", "true");
    css(badge, { position: "absolute", top: "-4px", "min-width": "20px", height: "20px", "border-radius": "10px",
      background: "#d93025", color: "#fff", "font": "bold 12px/20px sans-serif", display: "none", "text-align": "center" });
    badge.style.setProperty(side === "right" ? "left" : "right", "-4px", "important");
    button.appendChild(badge);

    var frame = document.createElement("iframe");
    frame.title = label;
    // The greeting is the shop's setting, never taken from the page or the address.
    frame.src = origin + "/widget?lang=" + lang + "&color=" + encodeURIComponent(color);
    var small = window.matchMedia("(max-width: 480px)");
    function place() {
      var full = small.matches;
      css(frame, { position: "fixed", border: "0", "z-index": "2147483647", background: "#fff",
        "box-shadow": "0 8px 30px rgba(0,0,0,.3)", bottom: full ? "0" : "88px",
        width: full ? "100%" : "380px", height: full ? "100%" : "min(600px, calc(100vh - 110px))",
        "border-radius": full ? "0" : "16px", display: frame.dataset.open === "1" ? "block" : "none" });
      frame.style.setProperty(side, full ? "0" : "20px", "important");
    }
    place();
    if (small.addEventListener) small.addEventListener("change", place);

    // The proactive message's bubble: the shop's words (set with textContent, never as HTML).
    var bubble = document.createElement("div");
    bubble.setAttribute("role", "status");
    css(bubble, { position: "fixed", bottom: "88px", "max-width": "min(280px, calc(100vw - 40px))", background: "#fff",
      color: "#1b1b1b", "border-radius": "14px", padding: lang === "fa" ? "12px 14px 12px 36px" : "12px 36px 12px 14px",
      "box-shadow": "0 6px 24px rgba(0,0,0,.22)",
      font: "15px/1.6 Vazirmatn, Tahoma, system-ui, sans-serif", "z-index": "2147483646", cursor: "pointer",
      display: "none", "text-align": "start", "unicode-bidi": "plaintext", "box-sizing": "border-box" });
    bubble.style.setProperty(side, "20px", "important");
    var bubbleText = document.createElement("span");
    bubbleText.setAttribute("dir", "auto");
    var bubbleClose = document.createElement("button");
    bubbleClose.type = "button";
    bubbleClose.textContent = "×";
    bubbleClose.setAttribute("aria-label", lang === "fa" ? "بستن" : "Close");
    // The close button at the end of the line: the left in Persian.
    css(bubbleClose, { position: "absolute", top: "2px", width: "32px", height: "32px", border: "0",
      background: "transparent", color: "#5f6368", "font-size": "20px", cursor: "pointer", padding: "0", margin: "0" });
    bubbleClose.style.setProperty(lang === "fa" ? "left" : "right", "2px", "important");
    bubble.setAttribute("dir", lang === "fa" ? "rtl" : "ltr");
    bubble.appendChild(bubbleText);
    bubble.appendChild(bubbleClose);
    var bubbleShown = false;
    function hideBubble(how) {
      if (!bubbleShown) return;
      bubbleShown = false;
      bubble.style.setProperty("display", "none", "important");
      tellChat({ type: how });
    }
    bubble.addEventListener("click", function (e) {
      if (e.target === bubbleClose) { hideBubble("appliance:bubble-closed"); return; }
      toggle(true);
    });
    // Reachable from the keyboard too: Enter or Space on the message opens the chat.
    bubbleText.tabIndex = 0;
    bubbleText.setAttribute("role", "button");
    bubbleText.addEventListener("keydown", function (e) {
      if (e.key === "Enter" || e.key === " ") { e.preventDefault(); toggle(true); }
    });

    // Messages for the chat wait until it says it is ready.
    var ready = false, waiting = [];
    function tellChat(message) {
      if (!ready) { waiting.push(message); return; }
      frame.contentWindow && frame.contentWindow.postMessage(message, origin);
    }
    // Where the visitor is: the page's path and query (never its title or content) and the
    // deepest they have scrolled, in per cent.
    var deepest = 0, lastAddress = "";
    function depth() {
      var doc = document.documentElement;
      var total = Math.max(doc.scrollHeight, document.body ? document.body.scrollHeight : 0);
      var seen = (window.scrollY || doc.scrollTop || 0) + window.innerHeight;
      return total <= window.innerHeight ? 100 : Math.min(100, Math.round(100 * seen / total));
    }
    function report() {
      var address = location.pathname + location.search, now = depth();
      if (address === lastAddress && now <= deepest) return;  // nothing the chat doesn't know
      if (address !== lastAddress) { lastAddress = address; deepest = 0; }
      deepest = Math.max(deepest, now);
      tellChat({ type: "appliance:page", address: address, scroll: deepest });
    }
    var scrollTimer = null;
    window.addEventListener("scroll", function () {
      if (!scrollTimer) scrollTimer = setTimeout(function () { scrollTimer = null; report(); }, 400);
    }, { passive: true });
    // A single-page shop changes its address without loading a page.
    setInterval(function () { if (location.pathname + location.search !== lastAddress) report(); }, 1000);

    window.SupportWidget = {
      trigger: function (name) { if (typeof name === "string") tellChat({ type: "appliance:trigger", name: name.slice(0, 40) }); },
      open: function () { toggle(true); },
      close: function () { toggle(false); }
    };

    function toggle(open) {
      if (open && !shown) return;  // not offered (yet): nothing opens on a page that may refuse it
      if (open) hideBubble("appliance:bubble-opened");
      frame.dataset.open = open ? "1" : "0";
      button.setAttribute("aria-expanded", open ? "true" : "false");
      place();
      if (open) {
        badge.style.setProperty("display", "none", "important");
        frame.contentWindow && frame.contentWindow.postMessage({ type: "appliance:opened" }, origin);
        frame.focus();
      } else {
        // Tell the chat it is closed (it stops marking replies as seen). Added in place, with
        // the file's name kept: shops' pages embed this address.
        frame.contentWindow && frame.contentWindow.postMessage({ type: "appliance:closed" }, origin);
        button.focus();
      }
    }
    button.addEventListener("click", function () { toggle(frame.dataset.open !== "1"); });
    window.addEventListener("message", function (e) {
      if (e.origin !== origin || !e.data) return;
      if (e.data.type === "appliance:close") toggle(false);
      if (e.data.type === "appliance:ready" && !ready) {
        ready = true;
        if (!shown) showButton(true);
        report();
        waiting.splice(0).forEach(tellChat);
      }
      if (e.data.type === "appliance:bubble" && frame.dataset.open !== "1" && typeof e.data.text === "string") {
        bubbleText.textContent = e.data.text.slice(0, 400);
        bubble.style.setProperty("display", "block", "important");
        bubbleShown = true;
      }
      if (e.data.type === "appliance:unread") {
        var n = +e.data.count || 0;
        badge.textContent = n > 9 ? "9+" : String(n);
        badge.style.setProperty("display", n && frame.dataset.open !== "1" ? "block" : "none", "important");
        button.setAttribute("aria-label", n ? label + " (" + n + ")" : label);
      }
    });
    document.body.appendChild(button);
    document.body.appendChild(bubble);
    // The chat loads after the shop's page has: it never competes with the page itself. It
    // loads even while closed, so a reply from the shop can light the badge.
    function attach() {
      document.body.appendChild(frame);
      if (d.open === "true" && known) frame.addEventListener("load", function () { toggle(true); });
      // A chat that never says it has loaded (refused, or the appliance is down) is not offered:
      // the button goes, and an open frame closes, so nothing broken stays on the page.
      setTimeout(function () {
        if (ready || !alive) return;
        alive = false;
        if (frame.dataset.open === "1") { frame.dataset.open = "0"; place(); }
        showButton(false);
        hideBubble("appliance:bubble-closed");
      }, READY_WAIT_MS);
    }
    if (document.readyState === "complete") attach();
    else window.addEventListener("load", attach);
  }

  ask(function (allowed) {
    if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", function () { begin(allowed); });
    else begin(allowed);
  });
})();
