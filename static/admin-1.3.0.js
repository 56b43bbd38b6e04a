/* Admin: an optional browser notification when a new escalation arrives (the badge in the
 * navigation is refreshed by htmx every 30 s). Nothing here is needed for the admin to work. */
(function () {
  "use strict";
  var button = document.getElementById("notify");
  if (!button || !("Notification" in window)) return;
  var last = null;
  function current() {
    var badge = document.getElementById("nav-waiting");
    return badge ? parseInt(badge.dataset.count || "0", 10) : 0;
  }
  last = current();
  if (Notification.permission === "default") {
    button.hidden = false;
    button.addEventListener("click", function () {
      Notification.requestPermission().then(function () { button.hidden = true; });
    });
  }
  // After any htmx swap (the badge is replaced whole): compare the count with the last one seen.
  document.body.addEventListener("htmx:afterSettle", function () {
    var now = current();
    var badge = document.getElementById("nav-waiting");
    if (badge) {  // the waiting count leads the tab's title, as the server wrote it at load
      document.title = (now ? "(" + badge.textContent.trim() + ") " : "") + document.title.replace(/^\([^)]*\) /, "");
    }
    if (now > last && Notification.permission === "granted") {
      new Notification(button.dataset.title, { tag: "appliance-waiting" });
    }
    last = now;
  });
})();

/* htmx 2 swaps no 4xx response, so a form sent back with its error (a 422: invalid business
 * hours, a wrong restore word; a 410: an expired import) changed nothing on screen. Our 4xx
 * pages are the form again, with the error and what the owner typed: swap them like a 200.
 * A 401 is a redirect to the sign-in page (HX-Redirect), and a JSON error isn't a page. */
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  var html = (xhr.getResponseHeader("content-type") || "").indexOf("text/html") === 0;
  if (xhr.status >= 400 && xhr.status < 500 && xhr.status !== 401 && html) {
    event.detail.shouldSwap = true;
    event.detail.isError = false;
  }
});

/* A file larger than the server takes is refused here, before minutes of uploading end in a
 * 413 the page can't show: the message (in the owner's language) goes under the field. */
document.addEventListener("htmx:beforeRequest", function (event) {
  var form = event.detail.elt;
  if (!form.querySelectorAll) return;
  var inputs = form.querySelectorAll("input[type=file][data-max-bytes]");
  for (var i = 0; i < inputs.length; i++) {
    var input = inputs[i];
    var limit = parseInt(input.getAttribute("data-max-bytes"), 10);
    var file = input.files && input.files[0];
    var note = input.parentNode.querySelector(".too-big");
    if (note) note.remove();
    if (file && file.size > limit) {
      event.preventDefault();
      note = document.createElement("p");
      note.className = "error too-big";
      note.setAttribute("role", "alert");
      note.textContent = input.getAttribute("data-too-big");
      input.insertAdjacentElement("afterend", note);
      return;
    }
  }
});

/* Keyboard shortcuts in the inbox, on a desktop: j / k the next and previous conversation of
 * the list, r the reply box, e resolve. Never while the owner is typing. */
document.addEventListener("keydown", function (event) {
  if (event.ctrlKey || event.metaKey || event.altKey) return;
  var target = event.target;
  if (target && (target.isContentEditable || /^(INPUT|TEXTAREA|SELECT)$/.test(target.tagName))) return;
  var links = Array.prototype.slice.call(document.querySelectorAll("#inbox-rows a"));
  if (!links.length && event.key !== "r") return;
  var current = links.findIndex(function (a) { return a.getAttribute("aria-current") === "true"; });
  if (event.key === "j" || event.key === "k") {
    var next = event.key === "j" ? current + 1 : current - 1;
    if (current === -1) next = 0;
    if (next >= 0 && next < links.length) { event.preventDefault(); links[next].click(); }
  } else if (event.key === "r") {
    var reply = document.getElementById("reply");
    if (reply) { event.preventDefault(); reply.focus(); }
  } else if (event.key === "e") {
    var resolve = document.querySelector("[data-key=resolve]");
    if (resolve) { event.preventDefault(); resolve.click(); }
  }
});

/* The owner typing a reply: the customer's open widget shows "typing..." (at most every 3 s). */
(function () {
  var last = 0;
  document.addEventListener("input", function (event) {
    var box = event.target;
    if (!box || box.id !== "reply") return;
    var form = box.closest("form[hx-post$='/reply']");
    var now = Date.now();
    if (!form || now - last < 3000) return;
    last = now;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch(form.getAttribute("hx-post").replace(/\/reply$/, "/typing"), {
      method: "POST", headers: headers, credentials: "same-origin"
    }).catch(function () { /* only a courtesy */ });
  });
})();

/* While an admin page is open and in view, it says so (presence.BEAT_S): with the owner's
 * "I'm available" switch on, customers' chats say a person is online. */
(function () {
  function beat() {
    if (document.visibilityState !== "visible" || !document.querySelector("button.presence")) return;
    var headers = JSON.parse(document.body.getAttribute("hx-headers") || "{}");
    fetch("/admin/presence/beat", { method: "POST", headers: headers, credentials: "same-origin" })
      .catch(function () { /* the next beat tries again */ });
  }
  beat();
  setInterval(beat, 30000);
  document.addEventListener("visibilitychange", beat);
})();

/* The open conversation reads itself again every few seconds, and each read tells the customer
 * the owner has seen their message. A tab in the background sees nothing: it doesn't read (the
 * next read, once the tab is back, brings everything). */
document.addEventListener("htmx:beforeRequest", function (event) {
  if (document.hidden && event.detail.elt && event.detail.elt.id === "transcript") event.preventDefault();
});
