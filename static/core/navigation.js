/* The header's menus (issue 15 point 5): <details> open and close without script; this keeps one
   open at a time and closes it on a click elsewhere or on Escape. */
(function () {
  "use strict";
  function groups() { return document.querySelectorAll(".site-nav details.nav-group"); }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches(".site-nav details.nav-group") || !opened.open) return;
    groups().forEach(function (group) { if (group !== opened) group.open = false; });
  }, true);
  document.addEventListener("click", function (event) {
    groups().forEach(function (group) { if (!group.contains(event.target)) group.open = false; });
  });
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    groups().forEach(function (group) {
      if (group.open) { group.open = false; group.querySelector("summary").focus(); }
    });
  });
})();
