/* Preview only: pages load this when built by `microsite serve` (never in a published site).
 *
 * On every page load it asks the preview server how the last build went
 * (../__microsite/status.json, beside this file's assets/ folder) and, when the build
 * failed, shows each problem (path:line: message) in an overlay over the last good page.
 * The server reloads open pages after every build, so the overlay comes and goes by itself.
 *
 * It also reloads a page that is older than the last build: the server stamps each page
 * with its build number (Server-Timing: microsite-build;desc="n"), and a reload sent before
 * this page's livereload socket had connected would otherwise be missed.
 */
(function () {
  "use strict";

  var script = document.currentScript;
  if (!script || !window.fetch) {
    return;
  }
  var statusUrl = new URL("../__microsite/status.json", script.src).href;
  var HOST_ID = "microsite-build-problems";
  var DISMISSED = "microsite-dismissed-build";

  function servedBuild() {
    var entries = performance.getEntriesByType ? performance.getEntriesByType("navigation") : [];
    var timings = (entries[0] && entries[0].serverTiming) || [];
    for (var i = 0; i < timings.length; i += 1) {
      if (timings[i].name === "microsite-build") {
        return Number(timings[i].description);
      }
    }
    return null;
  }

  function removeOverlay() {
    var host = document.getElementById(HOST_ID);
    if (host) {
      host.remove();
    }
  }

  function dismissed(built) {
    try {
      return sessionStorage.getItem(DISMISSED) === String(built);
    } catch (e) {
      return false;
    }
  }

  function dismiss(built) {
    try {
      sessionStorage.setItem(DISMISSED, String(built));
    } catch (e) {
      /* private mode: dismissing still hides it until the next reload */
    }
    removeOverlay();
  }

  var STYLE = [
    ":host { all: initial; }",
    ".panel { position: fixed; inset: 0 0 auto 0; z-index: 2147483647; max-height: 60vh;",
    "  overflow: auto; box-sizing: border-box; padding: 1rem 1.25rem 1.25rem;",
    "  background: #ffffff; color: #111111; border-bottom: 0.375rem solid #a50e0e;",
    "  box-shadow: 0 0.25rem 1rem rgba(0, 0, 0, 0.35);",
    "  font: 1.0625rem/1.5 system-ui, -apple-system, 'Segoe UI', sans-serif; text-align: start; }",
    "h2 { margin: 0 0 0.5rem; font-size: 1.25rem; color: #a50e0e; }",
    "p { margin: 0 0 0.75rem; }",
    "ul { margin: 0 0 1rem; padding: 0 0 0 1.25rem; }",
    "li { margin: 0 0 0.5rem; }",
    "code { font: 1rem/1.5 ui-monospace, 'DejaVu Sans Mono', Menlo, Consolas, monospace;",
    "  white-space: pre-wrap; overflow-wrap: anywhere; color: #111111; }",
    "button { font: inherit; padding: 0.375rem 1rem; color: #ffffff; background: #111111;",
    "  border: 2px solid #111111; border-radius: 0.25rem; cursor: pointer; }",
    "button:hover { background: #333333; }",
    "button:focus-visible { outline: 3px solid #a50e0e; outline-offset: 2px; }"
  ].join("\n");

  function showOverlay(status) {
    var shown = document.getElementById(HOST_ID);
    if (shown && shown.getAttribute("data-build") === String(status.built)) {
      return; // already there: keep focus and do not announce it twice
    }
    removeOverlay();
    if (dismissed(status.built)) {
      return;
    }
    var host = document.createElement("div");
    host.id = HOST_ID;
    host.setAttribute("data-build", String(status.built));
    // A shadow root keeps the site's styles off the overlay, and the overlay's off the site.
    var root = host.attachShadow({ mode: "open" });
    var style = document.createElement("style");
    style.textContent = STYLE;
    var panel = document.createElement("section");
    panel.className = "panel";
    panel.setAttribute("role", "alert");
    panel.setAttribute("aria-labelledby", "title");
    var title = document.createElement("h2");
    title.id = "title";
    var count = status.problems.length;
    title.textContent = "The preview could not be rebuilt: " + count + " problem" +
      (count === 1 ? "" : "s") + " to fix";
    var help = document.createElement("p");
    help.textContent = "Below is the last good build. Fix the file and save: this page " +
      "updates by itself.";
    var list = document.createElement("ul");
    status.problems.forEach(function (problem) {
      var item = document.createElement("li");
      var code = document.createElement("code");
      code.textContent = problem;
      item.appendChild(code);
      list.appendChild(item);
    });
    var button = document.createElement("button");
    button.type = "button";
    button.textContent = "Dismiss";
    button.addEventListener("click", function () {
      dismiss(status.built);
    });
    panel.append(title, help, list, button);
    root.append(style, panel);
    // First in the page, so the Dismiss button is the first thing Tab reaches.
    document.body.insertBefore(host, document.body.firstChild);
  }

  document.addEventListener("keydown", function (event) {
    var host = document.getElementById(HOST_ID);
    if (event.key === "Escape" && host) {
      dismiss(host.getAttribute("data-build"));
    }
  });

  var served = servedBuild();

  function check() {
    fetch(statusUrl, { cache: "no-store" })
      .then(function (response) {
        return response.ok ? response.json() : null;
      })
      .then(function (status) {
        if (!status) {
          return;
        }
        if (served !== null && status.built > served) {
          location.reload();
        } else if (status.ok) {
          removeOverlay();
        } else {
          showOverlay(status);
        }
      })
      .catch(function () {
        /* the preview server is gone: nothing to show */
      });
  }

  check();
  // Once more after livereload's socket has surely connected: a build that finished in
  // between sent its reload to nobody.
  setTimeout(check, 1500);
  window.addEventListener("pageshow", function (event) {
    if (event.persisted) {
      check(); // back from the page cache: perhaps built over since
    }
  });
})();
