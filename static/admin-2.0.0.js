/* Admin: an optional browser notification when a new escalation arrives (the badge in the
 * navigation is refreshed by htmx every 30 s). Nothing here is needed for the admin to work. */
(function () {
  "use strict";
  var buttons = Array.prototype.slice.call(document.querySelectorAll("button.notify"));
  if (!buttons.length || !("Notification" in window)) return;
  var button = buttons[0];
  var last = null;
  function current() {
    var badge = document.getElementById("nav-waiting");
    return badge ? parseInt(badge.dataset.count || "0", 10) : 0;
  }
  last = current();
  if (Notification.permission === "default") {
    buttons.forEach(function (b) {
      b.hidden = false;
      b.addEventListener("click", function () {
        Notification.requestPermission().then(function () { buttons.forEach(function (x) { x.hidden = true; }); });
      });
    });
  }
  // After any htmx swap (the badge is replaced whole): compare the count with the last one seen.
  document.body.addEventListener("htmx:afterSettle", function () {
    var now = current();
    var badge = document.getElementById("nav-waiting");
    if (badge) {  // the waiting count leads the tab's title, as the server wrote it at load
      Array.prototype.forEach.call(document.querySelectorAll(".tab-count"), function (mirror) {
        mirror.textContent = badge.textContent;  // the phone's tab bar shows the same count
        mirror.hidden = badge.hidden;
      });
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
 * A 401 (the session ended) is said in place below, and a JSON error isn't a page. */
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
      note.className = "invalid-feedback d-block too-big";
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

/* Words the scripts below show, in the owner's language: the layout writes them on <body>. */
function adminText(name) { return document.body.getAttribute("data-t-" + name) || ""; }
function adminDigits(text) {  // a figure in a Persian sentence is written in Persian digits
  if (document.documentElement.lang !== "fa") return text;
  return text.replace(/[0-9]/g, function (d) { return "۰۱۲۳۴۵۶۷۸۹".charAt(+d); });
}

/* Toasts: "saved", "deleted". From an htmx response (core.toast: HX-Trigger "appliance:toast")
 * or from the page itself after a redirect (core.flash: <body data-flash>). */
function adminToast(text, kind) {
  var area = document.getElementById("toasts");
  if (!area || !text) return;
  var toast = document.createElement("div");
  var danger = kind === "danger" || kind === "error";
  toast.className = "toast align-items-center border-0 text-bg-" + (danger ? "danger" : "success");
  toast.setAttribute("role", danger ? "alert" : "status");
  var row = document.createElement("div");
  row.className = "d-flex";
  var body = document.createElement("div");
  body.className = "toast-body";
  body.textContent = text;  // text, never HTML
  var close = document.createElement("button");
  close.type = "button";
  close.className = "btn-close btn-close-white m-auto me-2";
  close.setAttribute("data-bs-dismiss", "toast");
  close.setAttribute("aria-label", adminText("close"));
  row.appendChild(body);
  row.appendChild(close);
  toast.appendChild(row);
  area.appendChild(toast);
  toast.addEventListener("hidden.bs.toast", function () { toast.remove(); });
  if (window.bootstrap) window.bootstrap.Toast.getOrCreateInstance(toast, { delay: 4000 }).show();
  else toast.classList.add("show");
}
/* The toast rides in the response's HX-Trigger header ("appliance:toast"). htmx fires it before
 * the swap, into a page the swap then replaces (a form that re-renders the body): so it is read
 * here, once the new page is in, once per response. */
(function () {
  var shown = typeof WeakSet === "function" ? new WeakSet() : null;
  function fromResponse(xhr) {
    if (!xhr || !shown || shown.has(xhr)) return;
    shown.add(xhr);
    var header = xhr.getResponseHeader("HX-Trigger");
    if (!header || header.indexOf("appliance:toast") < 0) return;
    try {
      var toast = JSON.parse(header)["appliance:toast"];
      if (toast) adminToast(toast.text, toast.kind);
    } catch (e) { /* not ours */ }
  }
  document.addEventListener("htmx:afterRequest", function (event) { fromResponse(event.detail.xhr); });
  document.addEventListener("htmx:afterSettle", function (event) { fromResponse(event.detail.xhr); });
})();
document.addEventListener("DOMContentLoaded", function () {
  adminToast(document.body.getAttribute("data-flash"), "success");
});

/* Confirmation for destructive actions, in the owner's language and in the page's look:
 * hx-confirm on an htmx element, data-confirm on a plain form. */
function adminConfirm(question, onYes) {
  var dialog = document.getElementById("confirm-dialog");
  if (!dialog || !window.bootstrap) { if (window.confirm(question)) onYes(); return; }
  dialog.querySelector("[data-question]").textContent = question;
  var modal = window.bootstrap.Modal.getOrCreateInstance(dialog);
  var ok = dialog.querySelector("[data-confirm-ok]");
  var fresh = ok.cloneNode(true);  // drop the listener of an earlier question
  ok.parentNode.replaceChild(fresh, ok);
  fresh.addEventListener("click", function () { modal.hide(); onYes(); });
  modal.show();
}
document.addEventListener("htmx:confirm", function (event) {
  if (!event.detail.question) return;
  event.preventDefault();
  adminConfirm(event.detail.question, function () { event.detail.issueRequest(true); });
});
document.addEventListener("submit", function (event) {
  var form = event.target;
  var question = form.getAttribute && form.getAttribute("data-confirm");
  if (!question || form.dataset.confirmed === "yes") return;
  event.preventDefault();
  adminConfirm(question, function () {
    form.dataset.confirmed = "yes";
    if (form.requestSubmit) form.requestSubmit(event.submitter || undefined); else form.submit();
    form.dataset.confirmed = "";
  });
}, true);

/* Drafts: nothing typed is lost. A form with data-draft="<key>" keeps what is typed in this
 * browser (localStorage), with the values the page showed when the typing began (its base). A
 * page that shows the form again with the same base (the session ended, the tab was closed, the
 * browser crashed) gets the typed fields back, with a way to throw them away. A page whose form
 * shows other values than the base (the draft was saved, or someone changed it since) forgets the
 * draft: it never writes old text over newer data. A save that succeeds forgets it too. */
(function () {
  var PREFIX = "appliance.draft.";
  var WEEK_MS = 7 * 24 * 3600 * 1000;
  var sending = {};  // drafts whose form is being sent: the page it swaps in must not get them back
  function fields(form) {
    return Array.prototype.filter.call(form.elements, function (el) {
      if (!el.name || el.disabled || el.name === "csrf_token") return false;
      return !/^(password|file|hidden|submit|button|reset)$/.test(el.type);
    });
  }
  function read(form) {
    var values = {};
    fields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        values[el.name + "\u0000" + el.value] = el.checked;
      } else if (el.tagName === "SELECT" && el.multiple) {
        values[el.name] = Array.prototype.filter.call(el.options, function (o) { return o.selected; }).map(function (o) { return o.value; });
      } else {
        values[el.name] = el.value;
      }
    });
    return values;
  }
  function write(form, values) {
    fields(form).forEach(function (el) {
      if (el.type === "checkbox" || el.type === "radio") {
        var key = el.name + "\u0000" + el.value;
        if (key in values) el.checked = !!values[key];
      } else if (el.tagName === "SELECT" && el.multiple) {
        if (Array.isArray(values[el.name])) Array.prototype.forEach.call(el.options, function (o) { o.selected = values[el.name].indexOf(o.value) >= 0; });
      } else if (el.name in values) {
        el.value = values[el.name];
      }
    });
  }
  function same(a, b) { return JSON.stringify(a) === JSON.stringify(b); }
  function changed(values, base) {  // only the fields the owner changed
    var out = {};
    Object.keys(values).forEach(function (name) { if (!same(values[name], base[name])) out[name] = values[name]; });
    return out;
  }
  function load(key) {
    try {
      var saved = JSON.parse(localStorage.getItem(PREFIX + key) || "null");
      if (saved && saved.base && saved.values && Date.now() - saved.at < WEEK_MS) return saved;
      localStorage.removeItem(PREFIX + key);
    } catch (e) { /* storage unavailable or a broken value: no draft */ }
    return null;
  }
  function forget(key) { try { localStorage.removeItem(PREFIX + key); } catch (e) {} }
  function keep(form) {
    if (!document.body.contains(form)) return;  // a form swapped away (sent): its page is gone
    clearTimeout(form.draftTimer);
    var key = form.getAttribute("data-draft");
    var base = JSON.parse(form.dataset.draftBase || "{}");
    var typed = changed(read(form), base);
    try {
      if (!Object.keys(typed).length) localStorage.removeItem(PREFIX + key);
      else localStorage.setItem(PREFIX + key, JSON.stringify({ at: Date.now(), base: base, values: typed }));
    } catch (e) { /* a full or disabled storage: the form still works */ }
  }
  function note(form, key) {
    var bar = document.createElement("div");
    bar.className = "alert alert-info d-flex flex-wrap align-items-center gap-2 py-2 draft-note";
    bar.setAttribute("role", "status");
    var text = document.createElement("span");
    text.className = "flex-grow-1";
    text.textContent = adminText("draft");
    var discard = document.createElement("button");
    discard.type = "button";
    discard.className = "btn btn-sm btn-outline-secondary";
    discard.textContent = adminText("discard");
    discard.addEventListener("click", function () {
      write(form, JSON.parse(form.dataset.draftBase || "{}"));
      forget(key);
      bar.remove();
    });
    bar.appendChild(text);
    bar.appendChild(discard);
    form.insertBefore(bar, form.firstChild);
  }
  function setUp(root) {
    var forms = (root.matches && root.matches("form[data-draft]")) ? [root] : [];
    if (root.querySelectorAll) forms = forms.concat(Array.prototype.slice.call(root.querySelectorAll("form[data-draft]")));
    forms.forEach(function (form) {
      if (form.dataset.draftReady) return;
      form.dataset.draftReady = "1";
      var key = form.getAttribute("data-draft");
      var base = read(form);
      form.dataset.draftBase = JSON.stringify(base);
      var saved = load(key);
      if (sending[key]) {
        // Swapped in while its own form was being sent: an error page shows what was typed (not
        // the data's state), so the draft's base stays the reference until the answer is known.
        if (saved) form.dataset.draftPending = JSON.stringify(saved.base);
        saved = null;
      }
      if (saved) {
        if (same(saved.base, base)) {  // the page is as it was when the owner began to type
          write(form, saved.values);
          note(form, key);
        } else {
          forget(key);  // saved since, or changed elsewhere: the page is newer than the draft
        }
      }
      form.addEventListener("input", function () {
        clearTimeout(form.draftTimer);
        form.draftTimer = setTimeout(function () { keep(form); }, 300);
      });
      form.addEventListener("change", function () { keep(form); });
      form.addEventListener("submit", function () { keep(form); });
    });
  }
  function draftOf(event) {
    var elt = event.detail && event.detail.elt;
    var form = elt && elt.closest ? elt.closest("form[data-draft]") : null;
    return form && (event.detail.requestConfig || {}).verb !== "get" ? form : null;
  }
  document.addEventListener("DOMContentLoaded", function () { setUp(document); });
  document.addEventListener("htmx:load", function (event) { setUp(event.detail.elt); });
  // The form's request is followed by its xhr: a form that re-renders the whole body is no longer
  // in the page when htmx says the request ended, so its events never reach the document.
  var requests = typeof WeakMap === "function" ? new WeakMap() : null;
  document.addEventListener("htmx:beforeRequest", function (event) {
    var form = draftOf(event);
    if (!form || !requests) return;
    var key = form.getAttribute("data-draft");
    keep(form);
    sending[key] = true;
    requests.set(event.detail.xhr, key);
  });
  function finished(event) {
    var xhr = event.detail && event.detail.xhr;
    var key = xhr && requests ? requests.get(xhr) : null;
    if (!key) return;
    requests.delete(xhr);
    delete sending[key];
    var ok = xhr.status >= 200 && xhr.status < 300;
    if (ok) forget(key);  // saved: a 4xx or a lost session keeps it
    var shown = document.querySelector('form[data-draft="' + (window.CSS && CSS.escape ? CSS.escape(key) : key) + '"]');
    if (shown && shown.dataset.draftPending) {
      if (!ok) { shown.dataset.draftBase = shown.dataset.draftPending; keep(shown); }
      delete shown.dataset.draftPending;
    }
  }
  document.addEventListener("htmx:afterRequest", finished);
  document.addEventListener("htmx:afterSettle", finished);
})();

/* The session ended (signed out elsewhere, or expired) during an htmx call: the page stays, with
 * what the owner typed, and says so with a link to sign in again and come back here. */
document.addEventListener("htmx:beforeSwap", function (event) {
  var xhr = event.detail.xhr;
  if (xhr.status !== 401) return;
  event.detail.shouldSwap = false;
  event.detail.isError = false;
  var target = xhr.getResponseHeader("HX-Sign-In") || "/admin/login";
  var area = document.getElementById("session-ended");
  if (area) return;
  area = document.createElement("div");
  area.id = "session-ended";
  area.className = "alert alert-warning d-flex flex-wrap align-items-center gap-2 position-fixed top-0 start-50 translate-middle-x mt-2 shadow";
  area.setAttribute("role", "alert");
  var text = document.createElement("span");
  text.textContent = adminText("expired");
  var link = document.createElement("a");
  link.className = "btn btn-primary btn-sm";
  link.href = target;
  link.textContent = adminText("sign-in");
  area.appendChild(text);
  area.appendChild(link);
  document.body.appendChild(area);
});

/* A request that never reached the server (offline, the server restarting): say so. */
document.addEventListener("htmx:sendError", function () { adminToast(adminText("failed"), "danger"); });

/* A request the server refused or failed, that no page answers (a 403, a 5xx): say so in a toast
 * rather than let the click seem to do nothing. 4xx pages with a form are swapped (above). */
document.addEventListener("htmx:responseError", function (event) {
  var xhr = event.detail.xhr;
  if (!xhr || xhr.status === 401) return;
  adminToast(adminText("error").replace("{code}", adminDigits(String(xhr.status))), "danger");
});

/* "Copy" buttons (the chat's snippet): data-copy="<selector of what to copy>", data-copied="<done>". */
document.addEventListener("click", function (event) {
  var button = event.target.closest ? event.target.closest("[data-copy]") : null;
  if (!button) return;
  var source = document.querySelector(button.getAttribute("data-copy"));
  if (!source) return;
  var text = source.value !== undefined && source.tagName !== "PRE" && source.tagName !== "CODE" ? source.value : source.textContent;
  function copied() { adminToast(button.getAttribute("data-copied") || "", "success"); }
  if (navigator.clipboard && window.isSecureContext) {
    navigator.clipboard.writeText(text).then(copied, function () { selectAndCopy(); });
  } else {
    selectAndCopy();
  }
  function selectAndCopy() {  // plain http on the shop's own network has no clipboard API
    var range = document.createRange();
    range.selectNodeContents(source);
    var selection = window.getSelection();
    selection.removeAllRanges();
    selection.addRange(range);
    try { if (document.execCommand("copy")) copied(); } catch (e) { /* selected: the owner copies it */ }
  }
});
