// The page frame on phones: the Menu button opens and closes the navigation and the views
// (app.css hides them at phone widths only on pages this script runs on, so without
// JavaScript they simply stay open), and stacked tables label each cell with its column.
"use strict";
document.documentElement.classList.add("js");

document.addEventListener("DOMContentLoaded", () => {
  const toggle = document.querySelector(".menu-toggle");
  if (toggle) {
    toggle.hidden = false;
    toggle.addEventListener("click", () => {
      const open = toggle.getAttribute("aria-expanded") !== "true";
      toggle.setAttribute("aria-expanded", String(open));
      document.body.classList.toggle("menu-open", open);
    });
  }
  // A phone shows each table row as a card: the cell's column name goes before its value.
  for (const table of document.querySelectorAll(".content table:not([data-own-labels])")) {
    const heads = Array.from(table.querySelectorAll("thead th")).map((th) => th.textContent.trim());
    for (const row of table.querySelectorAll("tbody tr")) {
      Array.from(row.children).forEach((cell, i) => {
        // A cell across several columns ("Nothing billed this month.") belongs to none of them.
        if (heads[i] && cell.colSpan === 1 && !cell.hasAttribute("data-label")) cell.setAttribute("data-label", heads[i]);
      });
    }
  }
});
