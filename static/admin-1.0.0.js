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
    if (now > last && Notification.permission === "granted") {
      new Notification(button.dataset.title, { tag: "appliance-waiting" });
    }
    last = now;
  });
})();
