/* The admin's service worker (served at /admin/sw.js, for the scope /admin/): shows the alerts the
   appliance pushes (web/admin/alerts.py, channels/alerts.py) and opens the conversation when one
   is tapped. The payload is JSON: title (the shop), body (the customer's words), url, tag. */
"use strict";

self.addEventListener("install", () => self.skipWaiting());
self.addEventListener("activate", (event) => event.waitUntil(self.clients.claim()));

self.addEventListener("push", (event) => {
  let data = {};
  try {
    data = event.data ? event.data.json() : {};
  } catch (e) {
    data = { body: event.data ? event.data.text() : "" };
  }
  const options = {
    body: String(data.body || ""),
    dir: "auto",
    icon: "/static/icon-192.png",
    badge: "/static/icon-192.png",
    data: { url: String(data.url || "/admin/inbox") },
  };
  if (data.tag) {
    options.tag = String(data.tag); // a later alert for the same conversation replaces this one
    options.renotify = true;
  }
  event.waitUntil(self.registration.showNotification(String(data.title || ""), options));
});

self.addEventListener("notificationclick", (event) => {
  event.notification.close();
  // Only the appliance's own pages, at the address this device knows it by (the public address
  // in the link may not be the one used at home): anything else opens the inbox.
  const given = new URL((event.notification.data && event.notification.data.url) || "/admin/inbox", self.location.origin);
  const path = given.pathname.startsWith("/admin/") ? given.pathname + given.search : "/admin/inbox";
  const target = new URL(path, self.location.origin);
  event.waitUntil(
    self.clients.matchAll({ type: "window", includeUncontrolled: true }).then((windows) => {
      for (const w of windows) {
        if (w.url === target.href && "focus" in w) return w.focus();
      }
      return self.clients.openWindow(target.href);
    })
  );
});
