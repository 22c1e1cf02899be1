/*
 * The bill page's Print button: hidden without JavaScript (the browser's own
 * Print gives the same statement), shown and wired up with it.
 */
(function () {
  "use strict";
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () {
      window.print();
    });
  });
})();
