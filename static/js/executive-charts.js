/*
 * Charts on the executive dashboard, drawn with Chart.js from the figures the
 * page already holds (the JSON block "executive-chart-data", made from the same
 * rows as the tables). Without JavaScript the tables are the whole page; with
 * it, each chart appears above the table that carries the same figures, which
 * stays the accessible version (the canvas is labelled and points to it).
 *
 * Also: the period form shows only the fields the chosen kind of period uses.
 */
(function () {
  "use strict";

  var BRAND = "#2451c7";
  var TEAL = "#0b8f8a";
  var AMBER = "#c77700";
  var SOFT = "#9db3ef";

  function numbers(values) {
    return values.map(function (value) {
      return value === null ? null : Number(value);
    });
  }

  function canvasIn(figure, label) {
    var box = document.createElement("div");
    box.className = "chart__canvas";
    var canvas = document.createElement("canvas");
    canvas.setAttribute("role", "img");
    canvas.setAttribute("aria-label", label + " The table below has the same figures.");
    box.appendChild(canvas);
    figure.appendChild(box);
    figure.hidden = false;
    return canvas;
  }

  function money(value) {
    return Number(value).toLocaleString(undefined, { maximumFractionDigits: 0 });
  }

  function draw(data) {
    var common = {
      responsive: true,
      maintainAspectRatio: false,
      animation: false,
      plugins: { legend: { position: "bottom" } },
    };
    var spend = document.querySelector('[data-chart="spend"]');
    if (spend && data.months.length) {
      new window.Chart(canvasIn(spend, "Bar chart of one-off and recurring spend by month."), {
        type: "bar",
        data: {
          labels: data.months,
          datasets: [
            { label: "One-off", data: numbers(data.oneOff), backgroundColor: BRAND, stack: "spend" },
            { label: "Recurring", data: numbers(data.recurring), backgroundColor: SOFT, stack: "spend" },
          ],
        },
        options: Object.assign({}, common, {
          scales: {
            x: { stacked: true },
            y: { stacked: true, beginAtZero: true, ticks: { callback: money } },
          },
        }),
      });
    }
    var volume = document.querySelector('[data-chart="volume"]');
    if (volume && data.months.length) {
      new window.Chart(canvasIn(volume, "Line chart of items requested and delivered by month."), {
        type: "line",
        data: {
          labels: data.months,
          datasets: [
            { label: "Requested", data: data.submitted, borderColor: BRAND, backgroundColor: BRAND, tension: 0.2 },
            { label: "Delivered", data: data.delivered, borderColor: TEAL, backgroundColor: TEAL, tension: 0.2 },
          ],
        },
        options: Object.assign({}, common, {
          scales: { y: { beginAtZero: true, ticks: { precision: 0 } } },
        }),
      });
    }
    var attainment = document.querySelector('[data-chart="attainment"]');
    if (attainment && data.services.length) {
      var canvas = canvasIn(attainment, "Bar chart of the share delivered on time by service, against the customer and the internal target.");
      canvas.parentNode.style.height = Math.max(220, 28 * data.services.length + 80) + "px";
      new window.Chart(canvas, {
        type: "bar",
        data: {
          labels: data.services,
          datasets: [
            { label: "Customer target (SLA)", data: numbers(data.resolutionSla), backgroundColor: BRAND },
            { label: "Internal target (OLA)", data: numbers(data.resolutionOla), backgroundColor: AMBER },
          ],
        },
        options: Object.assign({}, common, {
          indexAxis: "y",
          scales: {
            x: { min: 0, max: 100, ticks: { callback: function (v) { return v + "%"; } } },
            // Long service names are shortened on a narrow screen (the table
            // below has them in full).
            y: { ticks: { callback: function (value) {
              var label = this.getLabelForValue(value);
              var room = canvas.clientWidth < 500 ? 16 : 40;
              return label.length > room ? label.slice(0, room - 1) + "…" : label;
            } } },
          },
        }),
      });
    }
  }

  function periodFields() {
    var group = document.querySelector("[data-period-fields]");
    if (!group) {
      return;
    }
    var kind = group.querySelector("select[name=period]");
    if (!kind) {
      return;
    }
    var uses = {
      month: ["year", "month"],
      quarter: ["year", "quarter"],
      year: ["year"],
      custom: ["date_from", "date_to"],
    };
    function show() {
      var wanted = uses[kind.value] || [];
      ["year", "month", "quarter", "date_from", "date_to"].forEach(function (name) {
        var field = group.querySelector('[data-field="' + name + '"]');
        if (field && !field.classList.contains("field--error")) {
          field.hidden = wanted.indexOf(name) === -1;
        }
      });
    }
    kind.addEventListener("change", show);
    show();
  }

  function start() {
    periodFields();
    var source = document.getElementById("executive-chart-data");
    if (!source || !window.Chart) {
      return;
    }
    draw(JSON.parse(source.textContent));
  }

  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", start);
  } else {
    start();
  }
})();
