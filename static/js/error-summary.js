// The error summary (templates/catalog/includes/error_summary.html) is a list of
// links that works without this file. With it, the summary takes focus when the
// page opens, so it is read out first, and a link moves focus to its field with
// the field's label in view rather than the bare control at the window's top.
(function () {
  "use strict";
  var summary = document.querySelector("[data-error-summary]");
  if (!summary) {
    return;
  }
  summary.focus();
  summary.addEventListener("click", function (event) {
    var link = event.target.closest("a[href^='#']");
    if (!link) {
      return;
    }
    var target = document.getElementById(decodeURIComponent(link.hash.slice(1)));
    if (!target) {
      return;
    }
    event.preventDefault();
    var group = target.closest("fieldset") || target.closest(".field");
    var caption = group && group.querySelector("legend, label");
    (caption || target).scrollIntoView();
    target.focus({ preventScroll: true });
  });
})();
