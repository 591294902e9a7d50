/* labbook: draws charts when they scroll into view and makes run tables sortable.
 * Chart data sits in the page as <script type="application/json">, so the site
 * needs no server and loads nothing from the internet. */
(function () {
  "use strict";

  function figureFor(plot) {
    var holder = document.getElementById(plot.getAttribute("data-labbook-figure"));
    return holder ? JSON.parse(holder.textContent) : null;
  }

  function draw(plot) {
    if (plot.getAttribute("data-labbook-drawn")) return;
    plot.setAttribute("data-labbook-drawn", "pending");
    var figure = figureFor(plot);
    if (!figure || typeof Plotly === "undefined") return;
    var config = Object.assign({ responsive: true, displaylogo: false }, figure.config || {});
    Plotly.newPlot(plot, figure.data, figure.layout, config).then(function () {
      plot.setAttribute("data-labbook-drawn", "true");
    });
  }

  function drawCharts(root) {
    var plots = root.querySelectorAll(".labbook-plot[data-labbook-figure]");
    if (!("IntersectionObserver" in window)) {
      plots.forEach(draw);
      return;
    }
    var observer = new IntersectionObserver(
      function (entries) {
        entries.forEach(function (entry) {
          if (entry.isIntersecting) {
            observer.unobserve(entry.target);
            draw(entry.target);
          }
        });
      },
      { rootMargin: "200px 0px" }
    );
    plots.forEach(function (plot) {
      observer.observe(plot);
    });
  }

  // Printing draws every chart, seen or not.
  window.addEventListener("beforeprint", function () {
    document.querySelectorAll(".labbook-plot[data-labbook-figure]").forEach(draw);
  });

  function cellValue(row, index, type) {
    var cell = row.children[index];
    if (!cell) return null;
    var raw = cell.getAttribute("data-value");
    if (raw === null || raw === "") return null;
    if (type === "number") {
      var n = parseFloat(raw);
      return isNaN(n) ? null : n;
    }
    return raw;
  }

  function sortBy(table, header) {
    var headers = Array.prototype.slice.call(header.parentNode.children);
    var index = headers.indexOf(header);
    var type = header.getAttribute("data-type") || "text";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    headers.forEach(function (h) {
      h.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = cellValue(a, index, type);
      var y = cellValue(b, index, type);
      // Empty cells stay last whichever way the column is sorted.
      if (x === null && y === null) return 0;
      if (x === null) return 1;
      if (y === null) return -1;
      var order = type === "number" ? x - y : String(x).localeCompare(String(y), undefined, { numeric: true });
      return ascending ? order : -order;
    });
    rows.forEach(function (row) {
      body.appendChild(row);
    });
  }

  function makeSortable(root) {
    root.querySelectorAll("table.labbook-table[data-sortable]").forEach(function (table) {
      if (table.getAttribute("data-labbook-sortable")) return;
      table.setAttribute("data-labbook-sortable", "true");
      table.querySelectorAll("thead th").forEach(function (header) {
        header.setAttribute("tabindex", "0");
        header.addEventListener("click", function () {
          sortBy(table, header);
        });
        header.addEventListener("keydown", function (event) {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            sortBy(table, header);
          }
        });
      });
    });
  }

  function init() {
    drawCharts(document);
    makeSortable(document);
  }

  // Material's instant navigation swaps pages without a load event; document$ tells us.
  if (window.document$ && typeof window.document$.subscribe === "function") {
    window.document$.subscribe(init);
  } else if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", init);
  } else {
    init();
  }
})();
