// 登记出租房屋 (web/registry/rented_form.html): 再加一位租客 adds a tenant block in the page, a copy of the last one
// emptied (the move-in date kept), instead of sending the form back for it. Without this script the server adds
// the block; past the server's limit the button is left to the server, which says so.
(function () {
  "use strict";
  var form = document.getElementById("rented-form");
  var button = document.getElementById("add-tenant");
  var count = document.getElementById("tenant-count");
  var blocks = document.getElementById("tenant-blocks");
  if (!form || !button || !count || !blocks) return;
  var max = parseInt(button.getAttribute("data-max"), 10) || 20;
  var ATTRS = ["id", "name", "for", "aria-describedby"];

  button.addEventListener("click", function (event) {
    var all = blocks.querySelectorAll(".tenant-block");
    var n = all.length;
    if (n === 0 || n >= max) return;
    event.preventDefault();
    var copy = all[n - 1].cloneNode(true);
    var from = "t" + (n - 1) + "-";
    var to = "t" + n + "-";
    copy.setAttribute("data-index", String(n));
    copy.querySelectorAll("[id], [name], [for], [aria-describedby]").forEach(function (el) {
      ATTRS.forEach(function (attr) {
        var value = el.getAttribute(attr);
        if (value) el.setAttribute(attr, value.split(from).join(to));
      });
    });
    copy.querySelectorAll(".field-errors, .errorlist").forEach(function (el) { el.remove(); });
    copy.querySelectorAll("input").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      input.removeAttribute("autofocus");
      if (input.type !== "date") input.value = "";
    });
    var legend = copy.querySelector("legend");
    if (legend) legend.textContent = legend.textContent.replace(/\d+/, String(n + 1));
    blocks.appendChild(copy);
    count.value = String(n + 1);
    var first = copy.querySelector("input:not([type=hidden])");
    if (first) first.focus();
  });
}());
