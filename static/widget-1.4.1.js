/* The chat inside the widget iframe. No framework, no build step; talks to /api/v1 only.
 * Text from customers, the bot and the owner is only ever inserted with textContent (setText: its
 * left-to-right runs in <bdi> elements made the same way). */
(function () {
  "use strict";
  var S = JSON.parse(document.getElementById("strings").textContent);
  var LANG = document.body.dataset.lang;
  var KEY = "appliance.chat.v1";
  var log = document.getElementById("log");
  var form = document.getElementById("compose");
  var input = document.getElementById("text");
  var sendBtn = document.getElementById("send");
  var statusEl = document.getElementById("status");
  var state = load();
  var busy = false;
  var lastId = 0;       // the newest message on screen (what "seen" reports)
  var shown = {};       // ids of the messages on screen: nothing is shown twice
  var known = 0;        // every message up to this id has been received (the stream resumes here)
  var streamUp = false, streamTries = 0, streamAbort = null, streamTimer = null, ownerTyping = null;
  var rated = false;
  var contactShown = false;
  var live = false;
  // Whether the customer can see the chat: a reply is "seen" only then (the chat loads, closed,
  // with the shop's page, so a reply can light the badge). Open from the start when not framed.
  var opened = window.parent === window;

  document.documentElement.style.setProperty("--accent", document.body.dataset.colour);

  function load() {
    try { return JSON.parse(localStorage.getItem(KEY)) || {}; } catch (e) { return {}; }
  }
  function save() {
    try { localStorage.setItem(KEY, JSON.stringify(state)); } catch (e) { /* private mode: session only */ }
  }
  function el(tag, cls, text) {
    var node = document.createElement(tag);
    if (cls) node.className = cls;
    if (text !== undefined) node.textContent = text;
    return node;
  }
  /* The runs that read left to right as a unit in a sentence of either direction (a phone number,
   * an e-mail or web address, an order code; in a right-to-left text Latin phrases too, "Galaxy
   * A54", each item of «S، M، L»): each in a <bdi dir="ltr"> made with textContent, or
   * "+98 21 1234 5678" reads "5678 1234 21 98+" in Persian. The patterns are the admin's, from
   * appliance/text/bidi.py (tests/test_bidi.py checks they are the same). */
  var LTR_RUN = new RegExp("((?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\\.)[A-Za-z0-9\\-._~:/?#@!$&*+=%,;]*[A-Za-z0-9\\-_~/#$&*+=%]|[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,}|(?=[A-Za-z0-9\\-._~%*/]*[A-Za-z])[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]*\\*?/[A-Za-z0-9\\-._~%*]+/(?:[A-Za-z0-9\\-._~%*]+/)*[A-Za-z0-9\\-._~%*]*|#?(?=(?:[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]|[\\-_/.](?=[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]))*?[A-Za-z])(?=(?:[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]|[\\-_/.](?=[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]))*?[0-9\\u06f0-\\u06f9\\u0660-\\u0669])[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]+(?:[\\-_/.][A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]+)*|\\+?(?=(?:[ .\\-()]{0,2}[0-9\\u06f0-\\u06f9\\u0660-\\u0669]){7})(?:\\([0-9\\u06f0-\\u06f9\\u0660-\\u0669]+\\)|[0-9\\u06f0-\\u06f9\\u0660-\\u0669]+)(?:[ .\\-]?(?:\\([0-9\\u06f0-\\u06f9\\u0660-\\u0669]+\\)|[0-9\\u06f0-\\u06f9\\u0660-\\u0669]+))*)|[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669._%+\\-~*/]+", "g");
  var LTR_PHRASE = new RegExp("((?:(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\\.)[A-Za-z0-9\\-._~:/?#@!$&*+=%,;]*[A-Za-z0-9\\-_~/#$&*+=%]|[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,}|(?=[A-Za-z0-9\\-._~%*/]*[A-Za-z])[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]*\\*?/[A-Za-z0-9\\-._~%*]+/(?:[A-Za-z0-9\\-._~%*]+/)*[A-Za-z0-9\\-._~%*]*|#?(?=(?:[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]|[\\-_/.](?=[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]))*?[A-Za-z])(?=(?:[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]|[\\-_/.](?=[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]))*?[0-9\\u06f0-\\u06f9\\u0660-\\u0669])[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]+(?:[\\-_/.][A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]+)*|[A-Za-z\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f][A-Za-z0-9\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f]*(?:(?:[\\-._/'\\u2019]|,(?=[0-9]))[A-Za-z0-9\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f]+)*)(?:[,;:!?.]?[ \\u00a0](?:(?:[Hh][Tt][Tt][Pp][Ss]?://|[Ww][Ww][Ww]\\.)[A-Za-z0-9\\-._~:/?#@!$&*+=%,;]*[A-Za-z0-9\\-_~/#$&*+=%]|[A-Za-z0-9._%+\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)*\\.[A-Za-z]{2,}|(?=[A-Za-z0-9\\-._~%*/]*[A-Za-z])[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]*\\*?/[A-Za-z0-9\\-._~%*]+/(?:[A-Za-z0-9\\-._~%*]+/)*[A-Za-z0-9\\-._~%*]*|#?(?=(?:[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]|[\\-_/.](?=[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]))*?[A-Za-z])(?=(?:[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]|[\\-_/.](?=[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]))*?[0-9\\u06f0-\\u06f9\\u0660-\\u0669])[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]+(?:[\\-_/.][A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669]+)*|\\+?(?=(?:[ .\\-()]{0,2}[0-9\\u06f0-\\u06f9\\u0660-\\u0669]){7})(?:\\([0-9\\u06f0-\\u06f9\\u0660-\\u0669]+\\)|[0-9\\u06f0-\\u06f9\\u0660-\\u0669]+)(?:[ .\\-]?(?:\\([0-9\\u06f0-\\u06f9\\u0660-\\u0669]+\\)|[0-9\\u06f0-\\u06f9\\u0660-\\u0669]+))*|[A-Za-z0-9\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f]+(?:(?:[\\-._/'\\u2019]|,(?=[0-9]))[A-Za-z0-9\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u024f]+)*))*|\\+?(?=(?:[ .\\-()]{0,2}[0-9\\u06f0-\\u06f9\\u0660-\\u0669]){7})(?:\\([0-9\\u06f0-\\u06f9\\u0660-\\u0669]+\\)|[0-9\\u06f0-\\u06f9\\u0660-\\u0669]+)(?:[ .\\-]?(?:\\([0-9\\u06f0-\\u06f9\\u0660-\\u0669]+\\)|[0-9\\u06f0-\\u06f9\\u0660-\\u0669]+))*)|[A-Za-z0-9\\u06f0-\\u06f9\\u0660-\\u0669._%+\\-~*/]+", "g");
  var RTL_TEXT = new RegExp("^[^A-Za-z\\u00aa\\u00b5\\u00ba\\u00c0-\\u00d6\\u00d8-\\u00f6\\u00f8-\\u02b8\\u0386\\u0388-\\u03f5\\u0400-\\u0482\\u048a-\\u052f\\u200e\\u05d0-\\u05ea\\u05ef-\\u05f4\\u0608\\u060b\\u060d\\u061b-\\u064a\\u066d-\\u066f\\u0671-\\u06d5\\u06e5\\u06e6\\u06ee\\u06ef\\u06fa-\\u06ff\\u0750-\\u077f\\u08a0-\\u08c9\\ufb50-\\ufbc2\\ufbd3-\\ufd3d\\ufd50-\\ufd8f\\ufd92-\\ufdc7\\ufdf0-\\ufdfc\\ufe70-\\ufe74\\ufe76-\\ufefc\\u200f]*[\\u05d0-\\u05ea\\u05ef-\\u05f4\\u0608\\u060b\\u060d\\u061b-\\u064a\\u066d-\\u066f\\u0671-\\u06d5\\u06e5\\u06e6\\u06ee\\u06ef\\u06fa-\\u06ff\\u0750-\\u077f\\u08a0-\\u08c9\\ufb50-\\ufbc2\\ufbd3-\\ufd3d\\ufd50-\\ufd8f\\ufd92-\\ufdc7\\ufdf0-\\ufdfc\\ufe70-\\ufe74\\ufe76-\\ufefc\\u200f]");
  function setText(node, text) {
    node.textContent = "";
    text = text || "";
    var at = 0, m, run;
    var pattern = RTL_TEXT.test(text) ? LTR_PHRASE : LTR_RUN;  /* Latin phrases only in a Persian text */
    pattern.lastIndex = 0;
    while ((m = pattern.exec(text)) !== null) {
      if (m[1] === undefined) continue;  /* the rest of a word: no run */
      if (m.index > at) node.appendChild(document.createTextNode(text.slice(at, m.index)));
      run = document.createElement("bdi");
      run.dir = "ltr";
      if (m[0].indexOf(" ") >= 0 && !/[A-Za-z]/.test(m[0])) run.className = "text-nowrap";  /* a phone number: on one line */
      run.textContent = m[0];
      node.appendChild(run);
      at = m.index + m[0].length;
    }
    if (at < text.length) node.appendChild(document.createTextNode(text.slice(at)));
    return node;
  }
  function scroll() { log.scrollTop = log.scrollHeight; }
  function showStatus(text) { statusEl.textContent = text || ""; statusEl.hidden = !text; }
  function tell(message) { try { parent.postMessage(message, "*"); } catch (e) { /* not framed */ } }
  function uuid() {
    if (window.crypto && crypto.randomUUID) return crypto.randomUUID();
    return Date.now().toString(36) + Math.random().toString(36).slice(2);
  }

  /* A call to the appliance: a body is sent as JSON, or as it is when it is a form (a photo:
   * the browser sets the multipart boundary). */
  function api(method, path, body) {
    var headers = { "Accept": "application/json" };
    var form = typeof FormData !== "undefined" && body instanceof FormData;
    if (body !== undefined && !form) headers["Content-Type"] = "application/json";
    if (state.token) headers["Authorization"] = "Bearer " + state.token;
    return fetch("/api/v1" + path, { method: method, headers: headers,
      body: body === undefined || form ? body : JSON.stringify(body), credentials: "omit" });
  }

  /* A file in the conversation is fetched with the visitor's token (an <img src> can't send
   * it) and shown from a blob: address; the same file is fetched once. */
  var files = {};
  function fileUrl(id) {
    if (!files[id]) {
      files[id] = api("GET", "/attachments/" + encodeURIComponent(id)).then(function (r) {
        if (!r.ok) throw { http: r.status };
        return r.blob();
      }).then(function (blob) { return URL.createObjectURL(blob); });
      files[id].catch(function () { delete files[id]; });
    }
    return files[id];
  }
  function showFiles(node, list) {
    (list || []).forEach(function (f) {
      if (f.kind === "image") {
        var img = el("img", "photo");
        img.alt = S.photo;
        if (f.width && f.height) { img.width = f.width; img.height = f.height; }  // its place before it loads
        node.appendChild(img);
        fileUrl(f.id).then(function (url) { img.src = url; }).catch(function () { /* shown as its frame */ });
      } else {
        var link = el("a", "file", f.name);
        link.href = "#";
        link.dir = "auto";
        link.addEventListener("click", function (e) {
          e.preventDefault();
          fileUrl(f.id).then(function (url) {
            var save = el("a");
            save.href = url;
            save.download = f.name;
            document.body.appendChild(save);
            save.click();
            save.remove();
          }).catch(function () { showStatus(S["error.network"]); });
        });
        node.appendChild(link);
      }
    });
  }

  function bubble(role, text, extra) {
    var node = el("div", "msg " + role);
    node.setAttribute("dir", "auto");
    if (role === "owner") node.appendChild(el("span", "who", S.owner));
    var p = setText(el("p"), text);
    if (text || !(extra && extra.attachments && extra.attachments.length)) node.appendChild(p);
    if (extra) showFiles(node, extra.attachments);
    if (extra && extra.sources && extra.sources.length) {
      node.appendChild(setText(el("p", "sources"), S.from + " " + extra.sources.map(function (s) { return s.title; }).join("، ")));
    }
    log.appendChild(node);
    scroll();
    return node;
  }

  function choices(list) {
    var box = el("div", "choices");
    list.forEach(function (c) {
      var b = setText(el("button"), c.title);
      b.type = "button";
      b.setAttribute("dir", "auto");
      if (c.summary) b.appendChild(setText(el("span", "summary"), c.summary));  /* the answer's first sentence */
      b.addEventListener("click", function () { box.remove(); pick(c); });
      box.appendChild(b);
    });
    var none = el("button", null, S.none_of_these);
    none.type = "button";
    none.addEventListener("click", function () { box.remove(); handoff("clarification_failed"); });
    box.appendChild(none);
    log.appendChild(box);
    scroll();
  }

  function contactForm() {
    if (contactShown) return;
    contactShown = true;
    var box = el("form", "contact");
    box.appendChild(el("strong", null, S["contact.title"]));
    var emailLabel = el("label", null, S["contact.email"]);
    var email = el("input");
    email.type = "email"; email.id = "contact-email"; email.autocomplete = "email"; email.dir = "ltr";
    emailLabel.htmlFor = email.id;
    var phoneLabel = el("label", null, S["contact.phone"]);
    var phone = el("input");
    phone.type = "tel"; phone.id = "contact-phone"; phone.autocomplete = "tel"; phone.dir = "ltr";
    phoneLabel.htmlFor = phone.id;
    var save = el("button", null, S["contact.save"]);
    save.type = "submit";
    var note = el("p", "note");
    [emailLabel, email, phoneLabel, phone, save, note].forEach(function (n) { box.appendChild(n); });
    box.addEventListener("submit", function (e) {
      e.preventDefault();
      save.disabled = true;
      api("POST", "/conversations/" + state.conversation + "/contact", { email: email.value, phone: phone.value })
        .then(function (r) { return r.json().then(function (b) { return { ok: r.ok, body: b }; }); })
        .then(function (res) {
          save.disabled = false;
          if (res.ok) { box.replaceWith(el("p", "sources", S["contact.saved"])); }
          else { note.textContent = res.body.message || ""; }
        })
        .catch(function () { save.disabled = false; note.textContent = S["error.network"]; });
    });
    log.appendChild(box);
    scroll();
  }

  function rating() {
    if (rated || !state.conversation) return;
    rated = true;
    var box = el("div", "rating");
    box.appendChild(el("span", null, S["rate.question"]));
    [["rate.yes", true], ["rate.no", false]].forEach(function (pair) {
      var b = el("button", null, S[pair[0]]);
      b.type = "button";
      b.addEventListener("click", function () { sendRating(box, pair[1]); });
      box.appendChild(b);
    });
    log.appendChild(box);
    scroll();
  }

  function sendRating(box, satisfied) {
    box.replaceChildren(el("span", null, S["rate.thanks"]));
    var post = function (comment) {
      return api("POST", "/conversations/" + state.conversation + "/rating", { satisfied: satisfied, comment: comment || "" });
    };
    post("");
    if (!satisfied) {
      var comment = el("textarea");
      comment.setAttribute("aria-label", S["rate.comment"]);
      comment.placeholder = S["rate.comment"];
      comment.rows = 2;
      comment.maxLength = 2000;
      var ok = el("button", null, S.send);
      ok.type = "button";
      ok.addEventListener("click", function () { post(comment.value); comment.remove(); ok.remove(); });
      box.appendChild(comment);
      box.appendChild(ok);
    }
  }

  var consentBox = document.getElementById("consent");
  function consentGiven() { return !consentBox || consentBox.checked || !!state.conversation; }
  function syncConsent() {
    if (!consentBox) return;
    var ok = consentGiven();
    sendBtn.disabled = !ok || busy;
    input.disabled = !ok;
    document.getElementById("consent-row").hidden = !!state.conversation;
  }
  if (consentBox) consentBox.addEventListener("change", syncConsent);

  function ensureConversation() {
    if (state.conversation) return Promise.resolve();
    return api("POST", "/conversations", { lang: LANG, consent: !!(consentBox && consentBox.checked) }).then(function (r) {
      if (r.status === 429) throw { rate: true, retry: r.headers.get("Retry-After") };
      if (!r.ok) throw { http: r.status };
      return r.json();
    }).then(function (body) {
      state.token = body.visitor_token;
      state.conversation = body.conversation_id;
      save();
      syncConsent();
      openStream();
    });
  }

  /* Read a text/event-stream body from fetch() (EventSource can't POST). */
  function readEvents(response, onEvent) {
    var reader = response.body.getReader();
    var decoder = new TextDecoder();
    var buffer = "";
    function pump() {
      return reader.read().then(function (chunk) {
        if (chunk.done) return;
        buffer += decoder.decode(chunk.value, { stream: true });
        var parts = buffer.split(/\r?\n\r?\n/);
        buffer = parts.pop();
        parts.forEach(function (block) {
          var name = "message", data = "";
          block.split(/\r?\n/).forEach(function (line) {
            if (line.indexOf("event:") === 0) name = line.slice(6).trim();
            else if (line.indexOf("data:") === 0) data += line.slice(5).trim();
          });
          if (data) onEvent(name, JSON.parse(data));
        });
        return pump();
      });
    }
    return pump();
  }

  function streamReply(path, body, mine) {
    var typing = el("div", "typing", S.typing);
    log.appendChild(typing);
    scroll();
    var reply = null, text = "";
    return api("POST", path, body).then(function (r) {
      if (r.status === 429) throw { rate: true, retry: r.headers.get("Retry-After") };
      if (r.status === 401 || r.status === 404) throw { lost: true };
      if (r.status === 422) return r.json().then(function (b) { throw { invalid: b }; });
      if (!r.ok) throw { http: r.status };
      return readEvents(r, function (name, data) {
        if (name === "accepted" && mine) {
          mine.classList.remove("pending");
          mine.dataset.id = data.message_id;
          shown[data.message_id] = true;
          lastId = Math.max(lastId, data.message_id);
        }
        if (name === "delta") {
          if (!reply) { typing.remove(); reply = bubble("bot", ""); }
          text += data.text;
          setText(reply.querySelector("p"), text);
          scroll();
        }
        if (name === "done") {
          typing.remove();
          // "held": a person is in the conversation; "pending": a resend of a message already
          // being handled. Either way the reply arrives with the next history poll.
          if (data.kind === "held" || data.kind === "pending") return;
          if (!reply) reply = bubble("bot", text);
          if (data.reply_id) shown[data.reply_id] = true;
          lastId = Math.max(lastId, data.reply_id || 0);
          if (data.sources && data.sources.length) {
            reply.appendChild(setText(el("p", "sources"), S.from + " " + data.sources.map(function (s) { return s.title; }).join("، ")));
          }
          if (data.kind === "clarify" && data.choices && data.choices.length) choices(data.choices);
          if (data.handoff) contactForm();
          if (data.kind === "answer") rating();
        }
        if (name === "error") { typing.remove(); showStatus(data.message); }
      });
    }).finally(function () { typing.remove(); });
  }

  function send(text, clientId, node, attempt) {
    busy = true;
    sendBtn.disabled = true;
    showStatus("");
    return ensureConversation().then(answeringProactive).then(function () {
      return streamReply("/conversations/" + state.conversation + "/messages", { text: text, client_id: clientId }, node);
    }).then(function () {
      node.classList.remove("pending", "failed");
    }).catch(function (err) {
      if (err && err.lost) {  // the conversation is gone (erased, or another device): start afresh
        state = {}; save();
        if (attempt < 1) return send(text, clientId, node, attempt + 1);
      }
      if (err && err.rate) { showStatus(S["error.rate_limited"]); markFailed(node, text, clientId); return; }
      if (err && err.invalid) { showStatus(err.invalid.error === "too_long" ? S["error.too_long"] : err.invalid.message); markFailed(node, text, clientId); return; }
      if (attempt < 3) {  // network trouble: retry with the same client_id, which the server stores once
        showStatus(S["error.network"]);
        return new Promise(function (ok) { setTimeout(ok, 1000 * Math.pow(2, attempt)); })
          .then(function () { return send(text, clientId, node, attempt + 1); });
      }
      markFailed(node, text, clientId);
      showStatus(S["error.failed"]);
    }).finally(function () {
      busy = false;
      sendBtn.disabled = false;
    });
  }

  function markFailed(node, text, clientId) {
    node.classList.remove("pending");
    node.classList.add("failed");
    node.title = S["error.failed"];
    node.tabIndex = 0;
    var retry = function () {
      if (busy) return;
      node.removeEventListener("click", retry);
      node.classList.remove("failed");
      node.classList.add("pending");
      send(text, clientId, node, 0);
    };
    node.addEventListener("click", retry);
    node.addEventListener("keydown", function (e) { if (e.key === "Enter") retry(); });
  }

  function pick(choice) {
    if (busy) return;
    busy = true;
    bubble("customer", choice.title);
    streamReply("/conversations/" + state.conversation + "/choices", { entry_id: choice.id, label: choice.title }, null)
      .catch(function () { showStatus(S["error.failed"]); })
      .finally(function () { busy = false; });
  }

  function handoff(reason) {
    if (busy) return;
    busy = true;
    bubble("customer", S.person_label);
    ensureConversation().then(function () {
      return api("POST", "/conversations/" + state.conversation + "/handoff",
                 { lang: LANG, reason: typeof reason === "string" ? reason : "asked_for_person" });
    }).then(function (r) {
      if (r.status === 429) throw { rate: true };
      if (!r.ok) throw { http: r.status };
      return r.json();
    }).then(function (body) {
      bubble("bot", body.text);
      shown[body.reply_id] = true;
      lastId = Math.max(lastId, body.reply_id);
      contactForm();
    }).catch(function (err) {
      showStatus(err && err.rate ? S["error.rate_limited"] : S["error.failed"]);
    }).finally(function () { busy = false; });
  }

  function render(messages) {
    messages.forEach(function (m) {
      if (shown[m.id]) return;
      shown[m.id] = true;
      lastId = Math.max(lastId, m.id);
      if (ownerTyping && m.role === "owner") { ownerTyping.remove(); ownerTyping = null; }
      bubble({ customer: "customer", owner: "owner", system: "system" }[m.role] || "bot", m.text, m).dataset.id = m.id;
      if (m.kind === "escalate") contactShown = contactShown || false;
    });
  }

  /* "Seen" under the customer's last message the owner has seen (their conversation was open). */
  function seenByOwner(id) {
    if (!id) return;
    var last = null;
    Array.prototype.forEach.call(log.querySelectorAll(".msg.customer[data-id]"), function (node) {
      if (+node.dataset.id <= id) last = node;
    });
    if (!last || last.querySelector(".seen")) return;
    Array.prototype.forEach.call(log.querySelectorAll(".seen"), function (node) { node.remove(); });
    last.appendChild(el("span", "seen", S.seen));
  }

  var presenceEl = document.getElementById("presence");
  function person(data) {
    if (!data.person || !presenceEl) return;
    var online = data.person === "online";
    presenceEl.textContent = online ? S.person_online : S.person_away.replace("{when}", data.reply_by || "");
    presenceEl.className = "presence" + (online ? " online" : "");
    presenceEl.hidden = false;
  }

  /* The conversation's state, polled or pushed: the owner live in it, whether a person is there,
   * what the owner has seen, and the replies the customer hasn't. */
  function conversationState(s) {
    live = s.status === "human";
    person(s);
    seenByOwner(s.seen_by_owner);
    unread(s.unread);
  }

  function unread(count) {
    tell({ type: "appliance:unread", count: count });
    if (opened && document.visibilityState === "visible" && count) {
      api("POST", "/conversations/" + state.conversation + "/seen", { message_id: lastId });
    }
  }

  function refresh(initial) {
    if (!state.conversation) return Promise.resolve();
    return api("GET", "/conversations/" + state.conversation + "/messages?after=" + known).then(function (r) {
      if (r.status === 401 || r.status === 404) { state = {}; save(); return null; }
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (!body) return;
      render(body.messages);
      // A poll returns every message after ``known``: all of them are received now.
      body.messages.forEach(function (m) { known = Math.max(known, m.id); });
      if (initial && body.rated) rated = true;
      conversationState(body);
    }).catch(function () { /* offline: the next poll tries again */ });
  }

  /* The owner's replies, notices and typing, pushed on one stream while the chat is open. Each
   * message carries its id; after a dropped connection the stream resumes from ``known``, so
   * nothing is lost or shown twice. Refused (the appliance holds as many as it allows) or
   * unsupported, the chat polls as before. */
  function openStream() {
    if (!state.conversation || streamAbort || !window.ReadableStream || !window.AbortController) return;
    clearTimeout(streamTimer);
    var ctrl = new AbortController();
    streamAbort = ctrl;
    var conversation = state.conversation;
    fetch("/api/v1/conversations/" + conversation + "/events?after=" + known, {
      headers: { "Accept": "text/event-stream", "Authorization": "Bearer " + state.token, "Last-Event-ID": String(known) },
      credentials: "omit", signal: ctrl.signal
    }).then(function (r) {
      if (!r.ok) throw { http: r.status };
      streamUp = true;
      streamTries = 0;
      return readEvents(r, function (name, data) {
        if (name === "message") { render([data]); known = Math.max(known, data.id); }
        if (name === "state") conversationState(data);
        if (name === "typing" && !ownerTyping) {
          ownerTyping = el("div", "typing", S.typing);
          log.appendChild(ownerTyping);
          scroll();
          setTimeout(function () { if (ownerTyping) { ownerTyping.remove(); ownerTyping = null; } }, 6000);
        }
      });
    }).catch(function () { /* dropped, refused or offline: polled meanwhile, tried again below */ })
      .then(function () {
        streamUp = false;
        if (streamAbort === ctrl) streamAbort = null;
        if (conversation !== state.conversation) return openStream();
        streamTries += 1;
        refresh(false);  // what came while the stream was down
        streamTimer = setTimeout(openStream, 1000 * Math.min(60, Math.pow(2, Math.min(streamTries, 6))));
      });
  }
  window.addEventListener("online", function () { streamTries = 0; refresh(false); openStream(); });

  form.addEventListener("submit", function (e) {
    e.preventDefault();
    var text = input.value.trim();
    if (!text || busy) return;  // the button is disabled while sending: no duplicates
    input.value = "";
    var node = bubble("customer", text);
    node.classList.add("pending");
    send(text, uuid(), node, 0);
  });
  input.addEventListener("keydown", function (e) {
    if (e.key === "Enter" && !e.shiftKey && !e.isComposing) { e.preventDefault(); form.requestSubmit(); }
  });
  /* A photo from the customer: shown at once from their own file, replaced by what the shop
   * stored (turned upright, without its metadata); the bot says a person will look at it. */
  var photoInput = document.getElementById("photo");
  function photoError(code, status) {
    if (status === 429) return S["error.rate_limited"];
    if (status === 413 || code === "attachment.too_big") return S["error.photo_too_big"];
    if (status === 415 || code === "attachment.not_image" || code === "attachment.not_allowed") return S["error.not_photo"];
    if (code === "attachment.too_many_pixels") return S["error.photo_too_many_pixels"];
    if (code === "attachment.busy") return S["error.photos_busy"];
    if (code === "attachment.damaged") return S["error.photo_damaged"];
    return S["error.failed"];
  }
  function sendPhoto(file) {
    if (busy || !file || !consentGiven()) return;
    if (file.size > +photoInput.dataset.maxBytes) { showStatus(S["error.photo_too_big"]); return; }
    busy = true;
    sendBtn.disabled = true;
    showStatus("");
    var caption = input.value.trim();
    input.value = "";
    var node = bubble("customer", caption);
    node.classList.add("pending");
    var preview = el("img", "photo");
    preview.alt = S.photo;
    preview.src = URL.createObjectURL(file);
    node.appendChild(preview);
    var typing = el("div", "typing", S.sending_photo);
    log.appendChild(typing);
    scroll();
    ensureConversation().then(function () {
      var body = new FormData();
      body.append("file", file, file.name || "photo");
      body.append("text", caption);
      body.append("lang", LANG);
      return api("POST", "/conversations/" + state.conversation + "/attachments", body);
    }).then(function (r) {
      return r.json().catch(function () { return {}; }).then(function (b) { return { ok: r.ok, status: r.status, body: b }; });
    }).then(function (res) {
      if (!res.ok) {
        node.remove();
        input.value = caption;
        showStatus(photoError(res.body.error, res.status));
        return;
      }
      node.classList.remove("pending");
      var m = res.body.message;
      if (m) {
        shown[m.id] = true;
        node.dataset.id = m.id;
        lastId = Math.max(lastId, m.id);
        preview.remove();
        showFiles(node, m.attachments);
      }
      if (res.body.text) {
        var reply = bubble("bot", res.body.text);
        if (res.body.reply_id) { shown[res.body.reply_id] = true; reply.dataset.id = res.body.reply_id; lastId = Math.max(lastId, res.body.reply_id); }
      }
      if (res.body.handoff) contactForm();
    }).catch(function () {
      node.remove();
      input.value = caption;
      showStatus(S["error.network"]);
    }).finally(function () {
      URL.revokeObjectURL(preview.src);
      typing.remove();
      busy = false;
      sendBtn.disabled = false;
      photoInput.value = "";
    });
  }
  if (photoInput) photoInput.addEventListener("change", function () { sendPhoto(photoInput.files && photoInput.files[0]); });

  document.getElementById("person").addEventListener("click", handoff);
  document.getElementById("close").addEventListener("click", function () { opened = false; tell({ type: "appliance:close" }); });
  window.addEventListener("message", function (e) {
    if (e.data && e.data.type === "appliance:opened") { opened = true; input.focus(); refresh(false); }
    if (e.data && e.data.type === "appliance:closed") opened = false;
  });

  /* Proactive messages. The loader says which page the visitor is on and how far they have
   * scrolled; the shop's triggers say when to speak first. The server says whether (the owner's
   * limit per visitor, nothing more today after the visitor closed one): at most one a page view,
   * never while the chat is open. A visitor is counted by a random id kept here (not the chat's
   * token: most visitors never chat). */
  if (!state.vid) { state.vid = uuid().replace(/[^A-Za-z0-9_-]/g, ""); state.since = new Date().toDateString(); save(); }
  var returning = state.since !== new Date().toDateString() || !!state.conversation;
  var here = { address: "", at: Date.now(), scroll: 0 }, triggers = null, fired = false, asked = [];
  var asking = false, tried = {};  // one question to the server at a time; each trigger once a page view
  /* The owner's pattern against the page's path, "*" for any text, letter case ignored. What
   * follows "?" (a campaign's utm_source, a search) counts only if the pattern has a "?" itself.
   * Matched without backtracking: made into a regular expression, a pattern of five "*" and "/"
   * took 17.7 s on an address of 200 slashes, and "*a*a*a*a*a*a*b" never finished on 120 a's.
   * The greedy wildcard walk goes back only to the last "*": at most pattern x address steps. */
  function decoded(text) { try { return decodeURIComponent(text); } catch (e) { return text; } }
  function glob(p, s) {
    var i = 0, j = 0, star = -1, from = 0;
    while (j < s.length) {
      if (i < p.length && p.charAt(i) === "*") { star = i++; from = j; }
      else if (i < p.length && p.charAt(i) === s.charAt(j)) { i++; j++; }
      else if (star >= 0) { i = star + 1; j = ++from; }
      else return false;
    }
    while (i < p.length && p.charAt(i) === "*") i++;
    return i === p.length;
  }
  function matches(pattern, address) {
    if (!pattern || pattern === "*") return true;
    if (pattern.indexOf("?") < 0) address = address.split("?")[0];
    // A Persian address reaches the page %-encoded (/%DA%A9...); the owner types it as it reads.
    return glob(decoded(pattern).toLowerCase(), decoded(address).toLowerCase());
  }
  function due(t) {
    return !t.script && matches(t.page, here.address) && Date.now() - here.at >= t.seconds * 1000 &&
      here.scroll >= t.scroll && (t.visitors === "all" || (t.visitors === "returning") === returning);
  }
  /* Ask to show it; refused (the owner's limit for this visitor), the next trigger that is due
   * may still be asked. */
  function fire(t) {
    if (fired || asking || opened || !t || tried[t.id]) return;
    asking = true;
    tried[t.id] = true;
    api("POST", "/triggers/" + t.id + "/shown", { visitor_id: state.vid, lang: LANG }).then(function (r) {
      return r.ok ? r.json() : null;
    }).then(function (body) {
      if (!body || !body.show || opened) return;
      fired = true;
      state.proactive = { id: t.id, text: body.text, open: false, at: Date.now() };
      save();
      tell({ type: "appliance:bubble", text: body.text });
    }).catch(function () { /* offline: nothing shown */ }).then(function () { asking = false; });
  }
  function byName(name) {
    for (var i = 0; i < triggers.length; i++) { if (triggers[i].script && triggers[i].script === name) { fire(triggers[i]); return; } }
  }
  function proactiveEvent(kind) {
    var p = state.proactive;
    if (!p) return;
    api("POST", "/triggers/" + p.id + "/" + kind, { visitor_id: state.vid, lang: LANG }).catch(function () {});
    if (kind === "closed") { state.proactive = null; save(); return; }
    if (!p.open) {  // opened from the bubble: the shop's words come first in the chat
      p.open = true;
      save();
      bubble("bot", p.text).classList.add("proactive");
    }
  }
  // Without storage (a browser blocking it in frames) every page view would be a new visitor, and
  // the owner's "at most once a day" couldn't be kept: then the chat never speaks first.
  var remembers = (function () {
    try { localStorage.setItem(KEY + ".probe", "1"); localStorage.removeItem(KEY + ".probe"); return true; } catch (e) { return false; }
  })();
  if (window.parent !== window && remembers) {
    api("GET", "/triggers?lang=" + LANG).then(function (r) { return r.ok ? r.json() : { triggers: [] }; })
      .catch(function () { return { triggers: [] }; })
      .then(function (body) { triggers = body.triggers || []; asked.splice(0).forEach(byName); });
    setInterval(function () {
      if (!fired && !opened && here.address && triggers) {
        for (var i = 0; i < triggers.length; i++) { if (!tried[triggers[i].id] && due(triggers[i])) { fire(triggers[i]); break; } }
      }
    }, 1000);
  }
  window.addEventListener("message", function (e) {
    if (e.source !== window.parent || !e.data) return;
    if (e.data.type === "appliance:page" && typeof e.data.address === "string") {
      if (e.data.address !== here.address) here = { address: e.data.address.slice(0, 500), at: Date.now(), scroll: 0 };
      here.scroll = Math.max(here.scroll, +e.data.scroll || 0);
    }
    if (e.data.type === "appliance:trigger" && typeof e.data.name === "string") {
      if (triggers) byName(e.data.name); else asked.push(e.data.name);  // asked before the list came
    }
    if (e.data.type === "appliance:bubble-opened") proactiveEvent("opened");
    if (e.data.type === "appliance:bubble-closed") proactiveEvent("closed");
  });
  /* The customer answers the proactive message: it is stored first, so the owner reads what
   * they answer, and the trigger's figures count a reply. Once. */
  function answeringProactive() {
    var p = state.proactive;
    if (p && Date.now() - (p.at || 0) > 3600 * 1000) { state.proactive = p = null; save(); }  // a reply hours later isn't to it
    if (!p || !p.open || !state.conversation) return Promise.resolve();
    state.proactive = null;
    save();
    return api("POST", "/conversations/" + state.conversation + "/proactive", { trigger_id: p.id, visitor_id: state.vid, lang: LANG })
      .then(function (r) { return r.ok ? r.json() : null; })
      .then(function (body) { if (body && body.message_id) { shown[body.message_id] = true; } })
      .catch(function () {});
  }

  syncConsent();
  refresh(true).then(openStream);
  // Without a stream, the owner's replies are polled: every 20 s, every 4 s while the owner is
  // live in the chat.
  var tick = 0;
  setInterval(function () { tick += 1; if (!streamUp && (live || tick % 5 === 0)) refresh(false); }, 4000);
  tell({ type: "appliance:ready" });
})();
