// The main navigation's sections are <details> disclosures (keyboard-operable as they
// are: Tab to a section, Enter or Space to open it). One open at a time; Escape or a
// click elsewhere closes it, Escape returning focus to the section's name.
(function () {
  function groups() {
    return document.querySelectorAll("details[data-navgroup]");
  }
  document.addEventListener("toggle", function (event) {
    var opened = event.target;
    if (!opened.matches || !opened.matches("details[data-navgroup]") || !opened.open) return;
    groups().forEach(function (group) {
      if (group !== opened) group.open = false;
    });
  }, true);
  document.addEventListener("keydown", function (event) {
    if (event.key !== "Escape") return;
    groups().forEach(function (group) {
      if (!group.open) return;
      group.open = false;
      if (group.contains(document.activeElement)) group.querySelector("summary").focus();
    });
  });
  document.addEventListener("click", function (event) {
    groups().forEach(function (group) {
      if (group.open && !group.contains(event.target)) group.open = false;
    });
  });
})();
