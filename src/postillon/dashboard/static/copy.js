/* Copy buttons (progressive enhancement, no inline script: a strict CSP can forbid those).
 *
 * The page renders each <button class="copy" data-copy="..."> hidden; without JavaScript the
 * values stay plain selectable text. This script shows the buttons, copies a button's value
 * with navigator.clipboard and says "Copied" on the button and in the #copy-status live
 * region. Without clipboard access it selects the value instead, so Ctrl+C copies it.
 * Safe to run twice (htmx runs scripts of swapped-in pages again).
 */
(function () {
  "use strict";
  // How long the button says "Copied" before it reads "Copy" again.
  var FEEDBACK_MS = 2000;

  function reveal(root) {
    if (!root || !root.querySelectorAll) return;
    root.querySelectorAll("button.copy[data-copy]").forEach(function (button) {
      button.hidden = false;
    });
  }

  function say(text) {
    var region = document.getElementById("copy-status");
    if (region) region.textContent = text;
  }

  function what(button) {
    return (button.getAttribute("aria-label") || "Copy").replace(/^Copy\s*/, "");
  }

  function copied(button) {
    button.textContent = "Copied";
    button.classList.add("copied");
    say("Copied " + what(button) + ".");
    window.setTimeout(function () {
      button.textContent = "Copy";
      button.classList.remove("copied");
    }, FEEDBACK_MS);
  }

  function selectInstead(button) {
    var target = button.parentElement && button.parentElement.querySelector("code");
    if (target && window.getSelection) {
      var range = document.createRange();
      range.selectNodeContents(target);
      var selection = window.getSelection();
      selection.removeAllRanges();
      selection.addRange(range);
    }
    say("Could not copy: " + what(button) + " is selected; press Ctrl+C to copy it.");
  }

  function onClick(event) {
    var button = event.target.closest ? event.target.closest("button.copy[data-copy]") : null;
    if (!button) return;
    var value = button.getAttribute("data-copy");
    if (navigator.clipboard && navigator.clipboard.writeText) {
      navigator.clipboard.writeText(value).then(
        function () { copied(button); },
        function () { selectInstead(button); }
      );
    } else {
      selectInstead(button);
    }
  }

  if (!window.postillonCopyWired) {
    window.postillonCopyWired = true;
    document.addEventListener("click", onClick);
    document.addEventListener("htmx:load", function (event) { reveal(event.target); });
  }
  reveal(document);
})();
