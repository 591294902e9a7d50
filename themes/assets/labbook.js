/* labbook: draws charts when they scroll into view and makes run tables sortable.
 * Chart data sits in the page as <script type="application/json">, so the site
 * needs no server and loads nothing from the internet. */
(function () {
  "use strict";

  // --- colours from Material's scheme --------------------------------------------------
  // Charts take their colours from Material's CSS variables, so they follow the light
  // (default) and dark (slate) schemes; trace colours are the figure's own and stay.

  function cssColor(variable, fallback) {
    // A probe element resolves the variable (which may itself use var() and hsla) to the
    // rgb()/rgba() string Plotly reads.
    var probe = document.createElement("span");
    probe.style.display = "none";
    probe.style.color = fallback;
    probe.style.color = "var(" + variable + ", " + fallback + ")";
    document.body.appendChild(probe);
    var color = getComputedStyle(probe).color;
    document.body.removeChild(probe);
    return color;
  }

  function themeColors() {
    return {
      text: cssColor("--md-default-fg-color", "rgba(0, 0, 0, 0.87)"),
      muted: cssColor("--md-default-fg-color--light", "rgba(0, 0, 0, 0.54)"),
      line: cssColor("--md-default-fg-color--lighter", "rgba(0, 0, 0, 0.32)"),
      grid: cssColor("--md-default-fg-color--lightest", "rgba(0, 0, 0, 0.07)"),
      background: cssColor("--md-default-bg-color", "rgb(255, 255, 255)"),
    };
  }

  function axisNames(layout) {
    var names = Object.keys(layout || {}).filter(function (key) {
      return /^[xy]axis\d*$/.test(key);
    });
    return names.length ? names : ["xaxis", "yaxis"];
  }

  // Gives the layout keys (Plotly.relayout's dotted form) that paint a chart in the scheme.
  function themeUpdate(layout, colors) {
    var update = {
      paper_bgcolor: "rgba(0, 0, 0, 0)",
      plot_bgcolor: "rgba(0, 0, 0, 0)",
      "font.color": colors.text,
      "legend.bgcolor": "rgba(0, 0, 0, 0)",
      "hoverlabel.bgcolor": colors.background,
      "hoverlabel.font.color": colors.text,
      "modebar.bgcolor": "rgba(0, 0, 0, 0)",
      "modebar.color": colors.muted,
      "modebar.activecolor": colors.text,
    };
    axisNames(layout).forEach(function (axis) {
      update[axis + ".gridcolor"] = colors.grid;
      update[axis + ".zerolinecolor"] = colors.line;
      update[axis + ".linecolor"] = colors.line;
    });
    return update;
  }

  // Gives a copy of a layout with the dotted keys of an update written into it.
  function themed(layout, update) {
    var out = JSON.parse(JSON.stringify(layout || {}));
    Object.keys(update).forEach(function (path) {
      var parts = path.split(".");
      var node = out;
      for (var i = 0; i < parts.length - 1; i++) {
        if (typeof node[parts[i]] !== "object" || node[parts[i]] === null) node[parts[i]] = {};
        node = node[parts[i]];
      }
      node[parts[parts.length - 1]] = update[path];
    });
    return out;
  }

  function scheme() {
    return document.body.getAttribute("data-md-color-scheme") || "default";
  }

  function retheme(plot) {
    if (plot.getAttribute("data-labbook-drawn") !== "true") return;
    if (plot.getAttribute("data-labbook-scheme") === scheme()) return;
    plot.setAttribute("data-labbook-scheme", scheme());
    Plotly.relayout(plot, themeUpdate(plot.layout, themeColors()));
  }

  function rethemeAll() {
    if (typeof Plotly === "undefined") return;
    document.querySelectorAll(".labbook-plot[data-labbook-drawn]").forEach(retheme);
  }

  // Material's palette toggle flips data-md-color-scheme on <body>; drawn charts follow.
  function watchScheme() {
    if (!("MutationObserver" in window) || !document.body) return;
    new MutationObserver(rethemeAll).observe(document.body, {
      attributes: true,
      attributeFilter: ["data-md-color-scheme"],
    });
  }

  var NARROW = 600; // px of chart width under which the legend sits above the plot

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
    var drawnIn = scheme();
    var layout = themed(figure.layout, themeUpdate(figure.layout, themeColors()));
    if (plot.clientWidth < NARROW && !layout.legend.orientation) {
      // On a phone a legend at the side leaves the plot a sliver; it goes on top instead.
      layout.legend.orientation = "h";
      layout.legend.x = 0;
      layout.legend.xanchor = "left";
      // Above the plot: below it the legend would lie over the x axis' title.
      layout.legend.y = 1.02;
      layout.legend.yanchor = "bottom";
    }
    Plotly.newPlot(plot, figure.data, layout, config).then(function () {
      plot.setAttribute("data-labbook-scheme", drawnIn);
      plot.setAttribute("data-labbook-drawn", "true");
      retheme(plot); // the scheme may have changed while Plotly drew
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

  if (document.body) {
    watchScheme();
  } else {
    document.addEventListener("DOMContentLoaded", watchScheme);
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
