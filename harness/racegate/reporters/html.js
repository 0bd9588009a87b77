"use strict";
// Filter buttons (all / new only) and copy-to-clipboard for reproduce commands. No network, no eval.
document.addEventListener("DOMContentLoaded", function () {
  var buttons = document.querySelectorAll("button[data-filter]");
  buttons.forEach(function (button) {
    button.addEventListener("click", function () {
      var only = button.getAttribute("data-filter");
      buttons.forEach(function (b) { b.setAttribute("aria-pressed", String(b === button)); });
      document.querySelectorAll("article.bucket").forEach(function (a) {
        a.classList.toggle("hidden", only === "new" && !a.classList.contains("new"));
      });
    });
  });
  document.querySelectorAll("button[data-copy]").forEach(function (button) {
    button.addEventListener("click", function () {
      var text = document.getElementById(button.getAttribute("data-copy")).textContent;
      var done = function () { button.textContent = "Copied"; };
      var fallback = function () {
        // Clipboard API is unavailable on file:// in some browsers: select the text for Ctrl+C instead.
        var range = document.createRange();
        range.selectNodeContents(document.getElementById(button.getAttribute("data-copy")));
        var selection = window.getSelection();
        selection.removeAllRanges();
        selection.addRange(range);
        button.textContent = "Selected: press Ctrl+C";
      };
      if (navigator.clipboard && window.isSecureContext) {
        navigator.clipboard.writeText(text).then(done, fallback);
      } else {
        fallback();
      }
    });
  });
  var quiet = document.getElementById("toggle-quiet");
  if (quiet) {
    quiet.addEventListener("click", function () {
      var show = quiet.getAttribute("aria-pressed") !== "true";
      quiet.setAttribute("aria-pressed", String(show));
      quiet.textContent = show ? "Hide them" : "Show them";
      document.querySelectorAll("tr.quiet").forEach(function (row) { row.classList.toggle("hidden", !show); });
    });
  }
  var toggle = document.getElementById("toggle-raw");
  if (toggle) {
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-pressed") !== "true";
      toggle.setAttribute("aria-pressed", String(open));
      document.querySelectorAll("details.raw").forEach(function (d) { d.open = open; });
    });
  }
  document.body.setAttribute("data-ready", "true");  // lets tests see the script ran under the CSP
});
