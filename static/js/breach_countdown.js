// Keeps the queue's SLA badges counting down between page loads (the server renders the
// first text; without JavaScript it simply stays as rendered).
"use strict";
(function () {
  function span(ms) {
    const minutes = Math.max(1, Math.round(Math.abs(ms) / 60000));
    if (minutes < 60) return minutes + " min";
    const hours = Math.floor(minutes / 60);
    if (hours < 48) return hours + " h " + (minutes % 60) + " min";
    return Math.floor(hours / 24) + " days";
  }

  function tick() {
    const now = Date.now();
    document.querySelectorAll("time[data-breach-at]").forEach((badge) => {
      const left = Date.parse(badge.dataset.breachAt) - now;
      const state = left <= 0 ? "breached" : left <= 3600000 ? "soon" : "later";
      badge.textContent = left <= 0 ? "Breached " + span(left) + " ago" : "Due in " + span(left);
      badge.classList.remove("breach--breached", "breach--soon", "breach--later");
      badge.classList.add("breach--" + state);
    });
  }

  document.addEventListener("DOMContentLoaded", function () {
    tick();
    setInterval(tick, 30000);
  });
})();
