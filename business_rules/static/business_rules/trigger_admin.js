// Trigger admin: offer only the operators and values that fit the chosen field or action.
// The server checks every combination again on save; this only spares admins the guessing.
"use strict";
(function () {
  let schema = null;

  function option(value, label, selected) {
    const o = document.createElement("option");
    o.value = value;
    o.textContent = label;
    if (selected) o.selected = true;
    return o;
  }

  // Replace the value input with a <select> when choices exist, or a text box when not,
  // keeping name, id and current value.
  function setValueWidget(input, choices, hidden) {
    let widget = input;
    if (choices && input.tagName !== "SELECT") {
      widget = document.createElement("select");
    } else if (!choices && input.tagName === "SELECT") {
      widget = document.createElement("input");
      widget.type = "text";
    }
    if (widget !== input) {
      widget.name = input.name;
      widget.id = input.id;
      widget.className = input.className;
      input.replaceWith(widget);
    }
    const current = input.value;
    if (choices) {
      widget.replaceChildren(...choices.map(([v, l]) => option(v, l, v === current)));
    } else {
      widget.value = current;
    }
    widget.style.visibility = hidden ? "hidden" : "";
    return widget;
  }

  function refreshCondition(row) {
    const fieldSel = row.querySelector("select.br-field");
    const opSel = row.querySelector("select.br-operator");
    const value = row.querySelector(".br-value");
    if (!fieldSel || !opSel || !value) return;
    const spec = schema.fields[fieldSel.value];
    const current = opSel.value;
    const ops = spec ? spec.operators : [];
    opSel.replaceChildren(option("", "---------", !current), ...ops.map((op) => option(op, schema.operators[op], op === current)));
    const noValue = schema.noValue.includes(opSel.value);
    const widget = setValueWidget(value, spec ? spec.choices : null, noValue || !spec);
    widget.title = spec ? spec.help : "";
  }

  function refreshAction(row) {
    const actionSel = row.querySelector("select.br-action");
    const value = row.querySelector(".br-value");
    if (!actionSel || !value) return;
    const spec = schema.actions[actionSel.value];
    setValueWidget(value, spec ? spec.choices : null, !spec || !spec.hasValue);
    for (const [cls, wanted] of [["br-subject", spec && spec.subject], ["br-body", spec && spec.body]]) {
      const input = row.querySelector("." + cls);
      const line = input && input.closest(".form-row");
      if (line) line.style.display = wanted ? "" : "none";
    }
  }

  function refresh(row) {
    refreshCondition(row);
    refreshAction(row);
  }

  document.addEventListener("DOMContentLoaded", function () {
    const data = document.getElementById("trigger-rules-schema");
    if (!data) return;
    schema = JSON.parse(data.textContent);
    document.querySelectorAll(".inline-related, tr.form-row").forEach(refresh);
    document.addEventListener("change", function (event) {
      if (event.target.matches("select.br-field, select.br-operator, select.br-action")) {
        refresh(event.target.closest(".inline-related, tr.form-row"));
      }
    });
    document.addEventListener("formset:added", (event) => refresh(event.target));
  });
})();
