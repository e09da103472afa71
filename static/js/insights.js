// The program dashboard's charts (Chart.js, static/vendor/chartjs): each canvas is decorative
// (aria-hidden); the table beside it holds the same numbers for everyone. Data: the json_script
// "insight-charts" the page renders. Also the "print or save as PDF" button.
(function () {
  "use strict";
  var source = document.getElementById("insight-charts");
  var palette = ["#1f4e79", "#b35900", "#2e7d32", "#6a1b9a"];
  document.querySelectorAll("[data-print]").forEach(function (button) {
    button.addEventListener("click", function () { window.print(); });
  });
  if (!source || typeof window.Chart === "undefined") { return; }
  var charts = JSON.parse(source.textContent);
  var reduced = window.matchMedia && window.matchMedia("(prefers-reduced-motion: reduce)").matches;
  document.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
    var spec = charts[canvas.getAttribute("data-chart")];
    if (!spec || !spec.labels.length) { canvas.parentNode.hidden = true; return; }
    var line = canvas.getAttribute("data-chart") === "turnaround";
    new window.Chart(canvas, {
      type: line ? "line" : "bar",
      data: {
        labels: spec.labels,
        datasets: spec.series.map(function (series, index) {
          return {
            label: series.label,
            data: series.data,
            backgroundColor: palette[index % palette.length],
            borderColor: palette[index % palette.length],
          };
        }),
      },
      options: {
        animation: reduced ? false : undefined,
        responsive: true,
        maintainAspectRatio: false,
        indexAxis: canvas.getAttribute("data-chart") === "criteria" ? "y" : "x",
        plugins: { legend: { display: spec.series.length > 1 } },
        scales: { y: { beginAtZero: true } },
      },
    });
  });
})();
