// The X spend page's plot: this month's daily spend, stacked by kind (JSON from the server).
(function () {
  "use strict";
  const canvas = document.querySelector("[data-cost-chart]");
  if (!canvas || !window.Chart) return;
  const colours = ["#0969da", "#1a7f37", "#bf8700", "#cf222e", "#8250df", "#57606a", "#0a3069", "#953800", "#116329", "#6639ba"];
  fetch(canvas.dataset.url, { credentials: "same-origin" })
    .then((r) => r.json())
    .then((data) => {
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.labels,
          datasets: data.datasets.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: colours[i % colours.length] })),
        },
        options: { animation: false, scales: { x: { stacked: true }, y: { stacked: true, beginAtZero: true, title: { display: true, text: "USD" } } } },
      });
      canvas.dataset.points = String(data.datasets.flatMap((s) => s.data).filter((v) => v > 0).length);
    });
})();
