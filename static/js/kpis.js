/*
 * KPI charts: each <canvas data-chart="ID"> is drawn by Chart.js from the JSON block <script id="ID"
 * type="application/json"> the server rendered (json_script), so no inline script is needed (strict CSP).
 *
 * Readable without colour: the series differ by dash pattern and point shape as well as colour, the legend
 * names them, bars carry their value as text, and every chart has its data as a table beside it.
 * A click on a point or bar opens the records behind it (the drill-down link the server gave).
 * Buttons [data-chart-png="canvas id"] download the chart as PNG (Chart.js toBase64Image).
 */
(function () {
  "use strict";

  var STYLES = {
    main: { borderColor: "#0d6efd", backgroundColor: "rgba(13, 110, 253, 0.75)", pointStyle: "circle", borderDash: [] },
    previous: { borderColor: "#6c757d", backgroundColor: "#6c757d", pointStyle: "triangle", borderDash: [6, 4] },
    target: { borderColor: "#198754", backgroundColor: "#198754", pointStyle: false, borderDash: [2, 3] },
  };
  var BANDS = {
    promoter: "#198754",
    passive: "#adb5bd",
    detractor: "#dc3545",
    satisfied: "#198754",
    unsatisfied: "#dc3545",
  };
  var charts = [];

  function readSpec(id) {
    var element = document.getElementById(id);
    return element ? JSON.parse(element.textContent) : null;
  }

  // Bars show their value as text at their end (the display strings the server formatted).
  var barValues = {
    id: "kpiBarValues",
    afterDatasetsDraw: function (chart) {
      if (chart.config.type !== "bar") {
        return;
      }
      var context = chart.ctx;
      var horizontal = chart.options.indexAxis === "y";
      context.save();
      context.fillStyle = "#212529";
      context.font = "12px system-ui, sans-serif";
      chart.data.datasets.forEach(function (dataset, datasetIndex) {
        var meta = chart.getDatasetMeta(datasetIndex);
        meta.data.forEach(function (bar, index) {
          var text = dataset.display ? dataset.display[index] : String(dataset.data[index]);
          if (dataset.data[index] === null || text === undefined) {
            return;
          }
          if (horizontal) {
            context.textAlign = "left";
            context.textBaseline = "middle";
            context.fillText(text, Math.max(bar.x, bar.base) + 4, bar.y);
          } else {
            context.textAlign = "center";
            context.textBaseline = "bottom";
            context.fillText(text, bar.x, Math.min(bar.y, bar.base) - 2);
          }
        });
      });
      context.restore();
    },
  };

  function datasetFrom(spec, kind) {
    var style = STYLES[spec.style] || STYLES.main;
    var dataset = {
      label: spec.label,
      data: spec.data,
      display: spec.display,
      extra: spec.extra,
      links: spec.links,
      borderColor: style.borderColor,
      backgroundColor: style.backgroundColor,
      borderDash: style.borderDash,
      pointStyle: style.pointStyle,
      pointRadius: kind === "line" ? 4 : undefined,
      pointHoverRadius: kind === "line" ? 6 : undefined,
      borderWidth: 2,
      spanGaps: false,
      fill: false,
    };
    if (spec.style === "bands" && spec.bands) {
      dataset.backgroundColor = spec.bands.map(function (band) {
        return BANDS[band] || STYLES.main.backgroundColor;
      });
      dataset.borderColor = dataset.backgroundColor;
    }
    return dataset;
  }

  function draw(canvas) {
    if (!window.Chart) {
      return;
    }
    var spec = readSpec(canvas.dataset.chart);
    if (!spec) {
      return;
    }
    var kind = spec.kind === "bar" ? "bar" : "line";
    var horizontal = kind === "bar" && Boolean(spec.horizontal);
    var suffix = spec.suffix || "";
    var valueTicks = {
      callback: function (value) {
        return Number(value).toLocaleString() + suffix;
      },
    };
    if (horizontal) {
      // Room for every bar and its label.
      canvas.parentElement.style.height = Math.max(240, spec.labels.length * 28 + 60) + "px";
    }
    var chart = new window.Chart(canvas, {
      type: kind,
      data: {
        labels: spec.labels,
        datasets: spec.datasets.map(function (dataset) {
          return datasetFrom(dataset, kind);
        }),
      },
      plugins: [barValues],
      options: {
        responsive: true,
        maintainAspectRatio: false,
        animation: false,
        indexAxis: horizontal ? "y" : "x",
        layout: { padding: { right: horizontal ? 80 : 8, top: kind === "bar" ? 18 : 4 } },
        interaction: { mode: "nearest", intersect: false, axis: horizontal ? "y" : "x" },
        plugins: {
          title: { display: false, text: spec.title },
          legend: {
            display: spec.datasets.length > 1,
            labels: { usePointStyle: true },
          },
          tooltip: {
            callbacks: {
              label: function (item) {
                var display = item.dataset.display ? item.dataset.display[item.dataIndex] : item.formattedValue;
                return item.dataset.label + ": " + display;
              },
              afterLabel: function (item) {
                return item.dataset.extra ? item.dataset.extra[item.dataIndex] : "";
              },
              footer: function (items) {
                var item = items[0];
                return item && item.dataset.links && item.dataset.links[item.dataIndex] ? "Click to see the records" : "";
              },
            },
          },
        },
        scales: {
          x: horizontal ? { beginAtZero: true, ticks: valueTicks } : {},
          y: horizontal ? {} : { beginAtZero: kind === "bar", ticks: valueTicks },
        },
        onClick: function (event, elements, current) {
          if (!elements.length) {
            return;
          }
          var element = elements[0];
          var links = current.data.datasets[element.datasetIndex].links;
          if (links && links[element.index]) {
            window.location.assign(links[element.index]);
          }
        },
      },
    });
    charts.push(chart);
    canvas.chart = chart;
  }

  function drawAll(root) {
    root.querySelectorAll("canvas[data-chart]").forEach(function (canvas) {
      if (!canvas.chart) {
        draw(canvas);
      }
    });
  }

  function downloadPng(button) {
    var canvas = document.getElementById(button.dataset.chartPng);
    if (!canvas || !canvas.chart) {
      return;
    }
    var link = document.createElement("a");
    link.href = canvas.chart.toBase64Image("image/png", 1);
    link.download = (button.dataset.filename || "chart") + ".png";
    document.body.appendChild(link);
    link.click();
    link.remove();
  }

  document.addEventListener("click", function (event) {
    var button = event.target instanceof Element ? event.target.closest("[data-chart-png]") : null;
    if (button) {
      event.preventDefault();
      downloadPng(button);
    }
  });

  // Charts drawn for the screen are resized for paper, and back.
  window.addEventListener("beforeprint", function () {
    charts.forEach(function (chart) {
      chart.resize();
    });
  });
  window.addEventListener("afterprint", function () {
    charts.forEach(function (chart) {
      chart.resize();
    });
  });

  document.addEventListener("DOMContentLoaded", function () {
    drawAll(document);
  });
  // htmx swaps in new parts of the page (a new breakdown): draw their charts.
  document.addEventListener("htmx:afterSettle", function (event) {
    charts = charts.filter(function (chart) {
      return document.body.contains(chart.canvas);
    });
    drawAll(event.target instanceof Element ? event.target : document);
  });
})();
