/* Share controls, added only where the browser can do the job.
 *
 * - <button hidden data-copy-link="URL">: shown when the Clipboard API exists; copies the
 *   link and says "Link copied" in the nearest [data-share-status] (an aria-live region).
 * - <button hidden data-web-share data-title data-text data-url>: shown when the system
 *   share sheet (navigator.share) exists.
 * - <form data-mastodon-share> with an input "instance" and a textarea "text": the text
 *   comes from this page's ?text=; on submit the reader's server is checked, remembered
 *   (only in this browser) and opened at https://SERVER/share?text=…. A remembered server
 *   is filled in, never followed without the reader pressing the button.
 *
 * No dependencies, no inline handlers (the pages' Content-Security-Policy allows none).
 */
(function () {
  "use strict";

  var INSTANCE_KEY = "microsite.mastodon-instance";
  var HOST = /^(?=.{4,253}$)(?:[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+(?:[a-z]{2,63}|xn--[a-z0-9-]{1,59})$/;

  // The live region of this control: inside it (a form), in its [data-share] group, beside it.
  function statusFor(element) {
    var scope = element.closest("[data-share]") || element.parentElement;
    return element.querySelector("[data-share-status]") ||
      (scope && scope.querySelector("[data-share-status]")) ||
      document.querySelector("[data-share-status]");
  }

  function announce(element, message) {
    var status = statusFor(element);
    if (!status) {
      return;
    }
    // Empty first, then the words a moment later: a repeat of the same words is read again.
    status.textContent = "";
    window.setTimeout(function () {
      status.textContent = message;
    }, 100);
  }

  function setUpCopy(button) {
    if (!navigator.clipboard || typeof navigator.clipboard.writeText !== "function") {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      navigator.clipboard.writeText(button.getAttribute("data-copy-link")).then(
        function () {
          announce(button, button.getAttribute("data-done") || "Link copied");
        },
        function () {
          announce(button, button.getAttribute("data-failed") ||
            "Could not copy the link; copy it from the address bar");
        }
      );
    });
  }

  function setUpWebShare(button) {
    if (typeof navigator.share !== "function") {
      return;
    }
    button.hidden = false;
    button.addEventListener("click", function () {
      var data = {};
      ["title", "text", "url"].forEach(function (key) {
        var value = button.getAttribute("data-" + key);
        if (value) {
          data[key] = value;
        }
      });
      // Closing the share sheet rejects the promise; that is the reader's choice, not an error.
      navigator.share(data).catch(function () {});
    });
  }

  // "mastodon.social", "https://mastodon.social/", "@me@mastodon.social" → "mastodon.social"
  function instanceHost(value) {
    var text = value.trim().replace(/^@?[^@\s/]+@/, "");
    var url;
    try {
      url = new URL(/^https?:\/\//i.test(text) ? text : "https://" + text);
    } catch (error) {
      return "";
    }
    if (url.username || url.password || url.port || url.search || url.hash ||
        url.pathname !== "/") {
      return "";
    }
    return HOST.test(url.hostname) ? url.hostname : "";
  }

  // Percent-encode as the site's own share links are: all but A-Z a-z 0-9 - . _ ~
  function encode(value) {
    return encodeURIComponent(value).replace(/[!'()*]/g, function (c) {
      return "%" + c.charCodeAt(0).toString(16).toUpperCase();
    });
  }

  function remembered() {
    try {
      return window.localStorage.getItem(INSTANCE_KEY) || "";
    } catch (error) {
      return ""; // storage can be switched off; the form still works
    }
  }

  function remember(host) {
    try {
      window.localStorage.setItem(INSTANCE_KEY, host);
    } catch (error) {
      // Nothing to do: the reader types the server again next time.
    }
  }

  function setUpMastodon(form) {
    var instance = form.elements.namedItem("instance");
    var text = form.elements.namedItem("text");
    if (!instance || !text) {
      return;
    }
    var shared = new URLSearchParams(window.location.search).get("text");
    if (shared && !text.value) {
      text.value = shared;
    }
    if (!instance.value) {
      instance.value = remembered();
    }
    form.addEventListener("submit", function (event) {
      event.preventDefault();
      var host = instanceHost(instance.value);
      if (!host) {
        instance.setAttribute("aria-invalid", "true");
        announce(form, form.getAttribute("data-invalid") ||
          "Type your Mastodon server's address, like mastodon.social");
        instance.focus();
        return;
      }
      instance.removeAttribute("aria-invalid");
      remember(host);
      window.location.assign("https://" + host + "/share?text=" + encode(text.value));
    });
  }

  function each(selector, setUp) {
    Array.prototype.forEach.call(document.querySelectorAll(selector), setUp);
  }

  each("[data-copy-link]", setUpCopy);
  each("[data-web-share]", setUpWebShare);
  each("form[data-mastodon-share]", setUpMastodon);
})();
