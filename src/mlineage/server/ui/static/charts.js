// Time-series charts with plotly.js: one chart per metric, one line per run.
(function () {
  "use strict";
  const box = document.getElementById("charts");
  if (!box || typeof Plotly === "undefined") return;
  const runs = (box.dataset.runs || "").split(" ").filter(Boolean);
  const axis = document.querySelector('select.x-axis[data-for="charts"]');

  // Plotly reads a few HTML-like tags in its text: show user text as plain text.
  const plain = (text) =>
    String(text).replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");

  function message(text) {
    const p = document.createElement("p");
    p.className = "muted";
    p.textContent = text;
    box.replaceChildren(p);
  }

  async function draw() {
    const x = axis ? axis.value : "step";
    const query = new URLSearchParams();
    runs.forEach((run) => query.append("run", run));
    query.set("x", x);
    box.dataset.drawn = "";
    box.setAttribute("aria-busy", "true");
    let data;
    try {
      const response = await fetch(box.dataset.url + "?" + query.toString(), {
        credentials: "same-origin",
      });
      data = await response.json();
      if (!response.ok) throw new Error(data.error ? data.error.message : response.statusText);
    } catch (error) {
      message("Could not load the time series: " + error.message);
      return;
    } finally {
      box.removeAttribute("aria-busy");
    }
    const keys = Object.keys(data.metrics);
    if (!keys.length) {
      message("No time series logged.");
      box.dataset.drawn = "empty";
      return;
    }
    box.replaceChildren();
    for (const key of keys) {
      const lines = data.metrics[key];
      const chart = document.createElement("div");
      chart.className = "chart";
      chart.dataset.key = key;
      box.appendChild(chart);
      const title = plain(key);
      const traces = lines.map((line) => ({
        type: "scatter",
        mode: line.x.length > 1 ? "lines" : "markers",
        name: plain(line.label),
        x: line.x,
        y: line.y,
        connectgaps: false,
      }));
      Plotly.newPlot(
        chart,
        traces,
        {
          title: { text: title, font: { size: 14 } },
          height: 300,
          margin: { l: 56, r: 16, t: 40, b: 40 },
          showlegend: lines.length > 1,
          xaxis: { title: { text: x === "step" ? "step" : "wall time" }, type: x === "step" ? "linear" : "date" },
        },
        { responsive: true, displaylogo: false }
      );
    }
    box.dataset.drawn = "true";
  }

  if (axis) axis.addEventListener("change", draw);
  draw();
})();
