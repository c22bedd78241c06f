// The org tree on the command centre's home: each branch's toggle folds its sub-units away and back
// (command/_tree_node.html). Without JavaScript the toggles stay hidden and the whole tree is open.
(function () {
  "use strict";
  document.querySelectorAll(".tree-toggle[aria-controls]").forEach(function (toggle) {
    var group = document.getElementById(toggle.getAttribute("aria-controls"));
    if (!group) return;
    toggle.hidden = false;
    toggle.addEventListener("click", function () {
      var open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", open ? "true" : "false");
      group.hidden = !open;
    });
  });
})();
