// The dashboard: fetches the figures of the chosen range as JSON and draws them with
// Chart.js (vendored in static/vendor/chartjs). No inline code: the page's CSP forbids it.
(function () {
  "use strict";
  const form = document.querySelector("[data-dashboard]");
  if (!form || !window.Chart) return;
  const charts = {};
  const colours = ["#0969da", "#1a7f37", "#bf8700", "#cf222e", "#8250df", "#57606a"];

  function bars(labels, series, stacked) {
    return {
      type: "bar",
      data: {
        labels: labels,
        datasets: series.map((s, i) => ({ label: s.label, data: s.data, backgroundColor: s.colour || colours[i % colours.length] })),
      },
      options: {
        animation: false,
        responsive: true,
        scales: { x: { stacked: !!stacked }, y: { stacked: !!stacked, beginAtZero: true } },
      },
    };
  }

  const builders = {
    created_per_hour: (d) => bars(d.labels, d.datasets, true),
    backlog: (d) => bars(d.labels, [{ label: "Tickets", data: d.data }]),
    first_reply_minutes: (d) => bars(d.labels, [{ label: "p50", data: d.p50 }, { label: "p90", data: d.p90 }]),
    resolution_hours: (d) => bars(d.labels, [{ label: "p50", data: d.p50 }, { label: "p90", data: d.p90 }]),
    intake_lag_seconds: (d) => bars(d.labels, [{ label: "p50", data: d.p50 }, { label: "p95", data: d.p95 }]),
    agents: (d) => bars(d.labels, [{ label: "Replies", data: d.replies }, { label: "Solves", data: d.solves }]),
    sla: (d) => bars(d.labels, [
      { label: "Achieved", data: d.achieved, colour: "#1a7f37" },
      { label: "Breached", data: d.breached, colour: "#cf222e" },
    ], true),
  };

  function draw(data) {
    document.querySelectorAll("canvas[data-chart]").forEach((canvas) => {
      const name = canvas.dataset.chart;
      if (charts[name]) charts[name].destroy();
      const config = builders[name](data[name]);
      charts[name] = new window.Chart(canvas, config);
      // How many non-zero values the chart shows: the browser test reads it.
      const values = config.data.datasets.flatMap((s) => s.data);
      canvas.dataset.points = String(values.filter((v) => v > 0).length);
    });
    // The backlog is counted by beat every minute or so: say when.
    const asOf = document.querySelector("[data-backlog-as-of]");
    if (asOf && data.backlog.as_of) asOf.textContent = `(counted ${new Date(data.backlog.as_of).toISOString().slice(11, 16)} UTC)`;
    form.dataset.loaded = data.range;
  }

  function load() {
    const range = form.querySelector("input[name=range]:checked").value;
    fetch(`${form.dataset.url}?range=${encodeURIComponent(range)}`, { credentials: "same-origin" })
      .then((r) => r.json())
      .then(draw);
  }

  form.addEventListener("change", load);
  load();
})();
