/* The category in two steps: first the type (the select's option groups, 常用 first), then the matter of that
   type, so a villager reads ten short lists instead of one of seventy. Without this script the grouped select
   works as it is; with it the form still sends the one `category` value. */
(function () {
  "use strict";
  document.querySelectorAll("select[data-two-step]").forEach(function (select) {
    var groups = Array.prototype.slice.call(select.querySelectorAll("optgroup"));
    var field = select.closest(".field");
    if (!groups.length || !field) { return; }
    var empty = select.querySelector("option[value='']");
    var matters = groups.map(function (group) {
      return Array.prototype.slice.call(group.querySelectorAll("option"));
    });
    var chosen = select.value;

    var typeField = document.createElement("div");
    typeField.className = "field";
    var label = document.createElement("label");
    var type = document.createElement("select");
    type.id = select.id + "-type";
    label.htmlFor = type.id;
    label.textContent = select.getAttribute("data-type-label");
    groups.forEach(function (group, i) {
      var option = document.createElement("option");
      option.value = String(i);
      option.textContent = group.label;
      type.appendChild(option);
    });
    typeField.appendChild(label);
    typeField.appendChild(type);
    field.parentNode.insertBefore(typeField, field);
    var matterLabel = field.querySelector("label[for='" + select.id + "']");
    if (matterLabel) { matterLabel.textContent = select.getAttribute("data-matter-label"); }

    function show(i, value) {
      select.textContent = "";
      if (empty) { select.appendChild(empty); }
      matters[i].forEach(function (option) { select.appendChild(option); });
      select.value = value;
      if (select.value !== value) { select.value = ""; }
    }

    // A form sent back refused opens at the type of what was chosen (a matter may also be in 常用: that).
    var start = 0;
    if (chosen) {
      start = matters.findIndex(function (options) {
        return options.some(function (option) { return option.value === chosen; });
      });
    }
    type.value = String(Math.max(start, 0));
    show(Math.max(start, 0), chosen);
    type.addEventListener("change", function () { show(Number(type.value), ""); toggleSubject(); });
    select.addEventListener("change", toggleSubject);

    // 被投诉单位 only for a 投诉举报 (one of the ids the field lists).
    var subject = document.querySelector("select[data-complaint-only]");
    var subjectField = subject && subject.closest(".field");
    function toggleSubject() {
      if (!subjectField) { return; }
      var complaints = (subject.getAttribute("data-complaint-categories") || "").split(" ");
      subjectField.hidden = complaints.indexOf(select.value) < 0;
    }
    toggleSubject();
  });
}());
