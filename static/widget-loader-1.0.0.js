/* The chat launcher's first address, which shops' pages embed: it loads the current loader
 * (widget-loader-1.1.0.js) from the same appliance with the same settings (data-lang,
 * data-position, data-color, data-open), so a page written for 1.0.0 gets what 1.1.0 does
 * (nothing broken on a site the shop hasn't allowed yet). New pages embed 1.1.0 directly. */
(function () {
  "use strict";
  var me = document.currentScript;
  if (!me || window.__applianceChat) return;
  var next = document.createElement("script");
  next.src = me.src.replace(/widget-loader-1\.0\.0\.js(\?.*)?$/, "widget-loader-1.1.0.js");
  next.async = true;
  ["lang", "position", "color", "open"].forEach(function (name) {
    if (me.dataset[name] !== undefined) next.dataset[name] = me.dataset[name];
  });
  (me.parentNode || document.head || document.documentElement).appendChild(next);
})();
