/* The Alerts page (/admin/alerts): turns Web Push alerts on and off on this device. Permission
   is asked only when the owner presses "turn on" (a browser blocks a page that asks on load).
   The subscription goes to /admin/alerts/subscribe with the page's CSRF token; the words shown
   come from the page (data-* attributes, in the owner's language). */
(function () {
  "use strict";
  var box = document.getElementById("push-device");
  if (!box) return;
  var state = document.getElementById("push-state");
  var onButton = document.getElementById("push-on");
  var offButton = document.getElementById("push-off");

  function say(text) {
    state.textContent = text;
  }

  function show(subscribed) {
    say(subscribed ? box.dataset.on : box.dataset.off);
    onButton.hidden = subscribed;
    offButton.hidden = !subscribed;
  }

  function csrf() {
    return JSON.parse(document.body.getAttribute("hx-headers") || "{}")["X-CSRF-Token"] || "";
  }

  // A refusal in the owner's words (ours, or the server's); a browser's own error (in English,
  // often technical) is shown as "that didn't work".
  function refusal(text) {
    var error = new Error(text);
    error.said = true;
    return error;
  }

  function send(path, body) {
    return fetch(path, {
      method: "POST",
      credentials: "same-origin",
      headers: { "Content-Type": "application/json", "X-CSRF-Token": csrf() },
      body: JSON.stringify(body),
    }).then(function (r) {
      return r.json().then(function (answer) {
        if (!r.ok) throw refusal(answer.message || box.dataset.failed);
        return answer;
      });
    });
  }

  function keyBytes(base64url) {
    var padded = (base64url + "===".slice((base64url.length + 3) % 4)).replace(/-/g, "+").replace(/_/g, "/");
    var raw = atob(padded);
    var out = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) out[i] = raw.charCodeAt(i);
    return out;
  }

  function devicesChanged() {
    document.body.dispatchEvent(new CustomEvent("appliance:devices"));
  }

  if (!("serviceWorker" in navigator) || !("PushManager" in window) || !("Notification" in window)) {
    say(window.isSecureContext === false ? box.dataset.insecure : box.dataset.unsupported);
    return;
  }

  var ready = navigator.serviceWorker.register("/admin/sw.js", { scope: "/admin/" }).then(function () {
    return navigator.serviceWorker.ready;
  });

  ready
    .then(function (registration) {
      return registration.pushManager.getSubscription();
    })
    .then(function (subscription) {
      show(!!subscription && Notification.permission === "granted");
    })
    .catch(function () {
      say(box.dataset.unsupported);
    });

  onButton.addEventListener("click", function () {
    onButton.disabled = true;
    say(box.dataset.working);
    Notification.requestPermission()
      .then(function (permission) {
        if (permission !== "granted") throw refusal(box.dataset.denied);
        return Promise.all([ready, fetch("/admin/alerts/key", { credentials: "same-origin" }).then(function (r) {
          return r.json();
        })]);
      })
      .then(function (got) {
        return got[0].pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(got[1].key) });
      })
      .then(function (subscription) {
        return send("/admin/alerts/subscribe", subscription.toJSON());
      })
      .then(function () {
        show(true);
        devicesChanged();
      })
      .catch(function (error) {
        say(error && error.said ? error.message : box.dataset.failed);
      })
      .then(function () {
        onButton.disabled = false;
      });
  });

  offButton.addEventListener("click", function () {
    offButton.disabled = true;
    ready
      .then(function (registration) {
        return registration.pushManager.getSubscription();
      })
      .then(function (subscription) {
        if (!subscription) return null;
        var endpoint = subscription.endpoint;
        return subscription.unsubscribe().then(function () {
          return send("/admin/alerts/unsubscribe", { endpoint: endpoint });
        });
      })
      .then(function () {
        show(false);
        devicesChanged();
      })
      .catch(function () {
        say(box.dataset.failed);
      })
      .then(function () {
        offButton.disabled = false;
      });
  });
})();
