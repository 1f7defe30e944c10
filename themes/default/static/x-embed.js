/* Click-to-load X embeds.
 *
 * The page ships a plain link to the post or profile (see generator/embeds.py,
 * x_embed_html). This script adds a button next to it; only when a reader presses the
 * button is anything requested from X, because X's widget tracks its readers. Until then
 * the page makes no request to X at all.
 */
(function () {
  "use strict";

  var WIDGETS = "https://platform.twitter.com/widgets.js";
  var widgets = null; // one shared load, started by the first press

  function loadWidgets() {
    if (widgets) {
      return widgets;
    }
    widgets = new Promise(function (resolve, reject) {
      var script = document.createElement("script");
      script.src = WIDGETS;
      script.async = true;
      script.charset = "utf-8";
      script.onload = function () {
        if (window.twttr && window.twttr.widgets) {
          resolve(window.twttr.widgets);
        } else {
          reject(new Error("X's widget did not start"));
        }
      };
      script.onerror = function () {
        reject(new Error("X's widget could not be loaded"));
      };
      document.head.appendChild(script);
    });
    // A failed load may succeed later (a flaky connection): let the next press try again.
    widgets.catch(function () {
      widgets = null;
    });
    return widgets;
  }

  // The page's words, from the <script> tag's data-* attributes (the theme translates them).
  var script = document.currentScript;
  function say(key, fallback) {
    return (script && script.dataset[key]) || fallback;
  }

  function setUp(figure) {
    var kind = figure.getAttribute("data-x-embed");
    var handle = figure.getAttribute("data-x-handle") || "";
    var post = figure.getAttribute("data-x-post") || "";
    var valid = kind === "post" ? /^[0-9]+$/.test(post) : kind === "profile";
    if (!valid || !/^[A-Za-z0-9_]{1,15}$/.test(handle)) {
      return; // not ours to touch: the plain link stays
    }
    var button = document.createElement("button");
    button.type = "button";
    button.className = "x-embed-load";
    button.textContent = kind === "post"
      ? say("loadPost", "Load this post from X (X may track you)")
      : say("loadProfile", "Load these posts from X (X may track you)");
    var status = document.createElement("p");
    status.className = "x-embed-status";
    status.setAttribute("role", "status");

    button.addEventListener("click", function () {
      button.disabled = true;
      status.textContent = say("loading", "Loading from X…");
      var target = document.createElement("div");
      target.className = "x-embed-widget";
      figure.appendChild(target);
      loadWidgets()
        .then(function (w) {
          var options = { dnt: true };
          return kind === "post"
            ? w.createTweet(post, target, options)
            : w.createTimeline({ sourceType: "profile", screenName: handle }, target, options);
        })
        .then(function (element) {
          if (!element) {
            throw new Error("X sent nothing to show");
          }
          var link = figure.querySelector(".x-embed-link");
          if (link) {
            link.remove();
          }
          button.remove();
          status.textContent = "";
        })
        .catch(function () {
          target.remove();
          button.disabled = false;
          status.textContent = say("failed",
            "This could not be loaded from X. The link still works.");
        });
    });

    figure.appendChild(button);
    figure.appendChild(status);
  }

  function start() {
    var figures = document.querySelectorAll("figure.x-embed[data-x-embed]");
    for (var i = 0; i < figures.length; i += 1) {
      setUp(figures[i]);
    }
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
