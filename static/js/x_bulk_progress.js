// Polls a bulk conversion's progress and reloads the page once it has finished, so the
// result (tickets created, items already on tickets) shows. Without JavaScript: reload by hand.
document.addEventListener("DOMContentLoaded", () => {
  const box = document.getElementById("bulk-progress");
  if (!box || box.dataset.status === "finished") return;
  const bar = box.querySelector("progress");
  const tick = async () => {
    try {
      const response = await fetch(box.dataset.progressUrl, { headers: { Accept: "application/json" } });
      if (response.ok) {
        const data = await response.json();
        bar.value = data.done;
        for (const el of box.querySelectorAll("[data-field]")) el.textContent = data[el.dataset.field];
        if (data.status === "finished") { window.location.reload(); return; }
      }
    } catch (e) { /* a dropped request: try again on the next tick */ }
    setTimeout(tick, 1000);
  };
  setTimeout(tick, 500);
});
