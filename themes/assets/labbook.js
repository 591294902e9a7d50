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
    // No "Share chart" / "Edit in Chart Studio": they send the data to plotly.com.
    var config = Object.assign(
      { responsive: true, displaylogo: false, showSendToCloud: false, showEditInChartStudio: false },
      figure.config || {}
    );
    config.modeBarButtonsToAdd = (config.modeBarButtonsToAdd || []).concat([
      {
        name: "Download the data shown as CSV",
        icon: Plotly.Icons.disk,
        click: function (gd) {
          saveCsv(figureCsv(gd.data, gd.layout), csvName(plot));
        },
      },
    ]);
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

  // --- "Download CSV": exactly the data a chart or table shows. ---

  function csvCell(value) {
    if (value === null || value === undefined) return "";
    var text = String(value);
    // A leading =, +, - or @ would run as a formula in a spreadsheet.
    if (/^[=+\-@\t\r]/.test(text) && isNaN(Number(text))) text = "'" + text;
    return /[",\n\r]/.test(text) ? '"' + text.replace(/"/g, '""') + '"' : text;
  }

  function csvText(header, rows, notes) {
    var lines = (notes || []).map(function (note) {
      return "# " + String(note).replace(/[\r\n]+/g, " ");
    });
    lines.push(header.map(csvCell).join(","));
    rows.forEach(function (row) {
      lines.push(row.map(csvCell).join(","));
    });
    return lines.join("\r\n") + "\r\n";
  }

  function axisTitle(layout, name) {
    var axis = layout && layout[name];
    var title = axis && axis.title;
    return (title && (title.text || title)) || "";
  }

  // One row per drawn point: the series (trace) it belongs to, x, y and what else the
  // trace carries (error bars, text). Parallel coordinates: one row per line.
  function figureCsv(data, layout) {
    var meta = (layout && layout.meta) || {};
    var notes = [];
    var title = layout && layout.title && (layout.title.text || layout.title);
    if (title) notes.push(title);
    if (meta.csv_note) notes.push(meta.csv_note);
    var visible = data.filter(function (t) {
      return t.visible !== false && t.visible !== "legendonly";
    });
    var coords = visible.filter(function (t) {
      return t.type === "parcoords";
    });
    if (coords.length) {
      var dims = coords[0].dimensions || [];
      var count = dims.length ? dims[0].values.length : 0;
      var rows = [];
      for (var i = 0; i < count; i++) {
        rows.push(
          dims.map(function (d) {
            var v = d.values[i];
            if (d.ticktext && d.tickvals) {
              var at = d.tickvals.indexOf(v);
              if (at >= 0) return d.ticktext[at];
            }
            return v;
          })
        );
      }
      return csvText(
        dims.map(function (d) {
          return d.label;
        }),
        rows,
        notes
      );
    }
    var xName = axisTitle(layout, "xaxis") || "x";
    var yName = axisTitle(layout, "yaxis") || "y";
    var withError = visible.some(function (t) {
      return t.error_y && t.error_y.array;
    });
    var withText = visible.some(function (t) {
      return Array.isArray(t.text);
    });
    var header = ["series", xName, yName];
    if (withError) header.push("error");
    if (withText) header.push("label");
    var out = [];
    visible.forEach(function (t) {
      var xs = t.x || [];
      var ys = t.y || [];
      var n = Math.max(xs.length || 0, ys.length || 0);
      for (var i = 0; i < n; i++) {
        var row = [t.name || "", xs[i], ys[i]];
        if (withError) row.push(t.error_y && t.error_y.array ? t.error_y.array[i] : "");
        if (withText) row.push(Array.isArray(t.text) ? t.text[i] : "");
        out.push(row);
      }
    });
    return csvText(header, out, notes);
  }

  function tableCsv(table) {
    var header = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent;
    });
    var rows = Array.prototype.map.call(table.querySelectorAll("tbody tr"), function (tr) {
      return Array.prototype.map.call(tr.children, function (td) {
        return td.textContent;
      });
    });
    return csvText(header, rows, []);
  }

  function csvName(element) {
    var block = element.closest(".labbook-block");
    var title = block && block.querySelector(".labbook-title");
    var base = (title ? title.textContent : "") || (block ? block.id : "labbook-data");
    return base.replace(/[^A-Za-z0-9._-]+/g, "-").replace(/^-+|-+$/g, "") + ".csv";
  }

  function saveCsv(text, name) {
    var url = URL.createObjectURL(new Blob([text], { type: "text/csv;charset=utf-8" }));
    var a = document.createElement("a");
    a.href = url;
    a.download = name;
    document.body.appendChild(a);
    a.click();
    a.remove();
    setTimeout(function () {
      URL.revokeObjectURL(url);
    }, 1000);
  }

  function addTableDownloads(root) {
    root.querySelectorAll("table.labbook-table").forEach(function (table) {
      var box = table.closest(".labbook-table-scroll") || table;
      if (box.previousElementSibling && box.previousElementSibling.classList.contains("labbook-csv")) {
        return;
      }
      var button = document.createElement("button");
      button.type = "button";
      button.className = "labbook-csv";
      button.textContent = "Download CSV";
      button.title = "Download the rows shown as CSV";
      button.addEventListener("click", function () {
        saveCsv(tableCsv(table), csvName(table));
      });
      box.parentNode.insertBefore(button, box);
    });
  }

  window.labbook = Object.assign(window.labbook || {}, {
    figureCsv: figureCsv,
    tableCsv: tableCsv,
  });

  // --- Printing (Ctrl+P, or a headless page.pdf()) ---
  // Every chart is drawn, seen or not, at a fixed width, then scaled by the print
  // stylesheet to the paper through a viewBox. A fixed width also keeps Plotly's own
  // resize handler from redrawing the chart while the page is printed (it would print
  // half-drawn: no legend, no x ticks).
  var PRINT_WIDTH = 720; // CSS px the chart is laid out at for paper; scaled to fit

  function printable(plot) {
    if (!plot._fullLayout) return;
    var width = PRINT_WIDTH;
    var height = plot._fullLayout.height;
    Plotly.relayout(plot, { width: width });
    plot.querySelectorAll("svg.main-svg").forEach(function (svg) {
      svg.setAttribute("viewBox", "0 0 " + width + " " + height);
      svg.setAttribute("preserveAspectRatio", "xMinYMin meet");
    });
    var box = plot.querySelector(".svg-container");
    if (box) box.style.aspectRatio = width + " / " + height;
    plot.classList.add("labbook-printing");
  }

  function unprintable(plot) {
    if (!plot.classList.contains("labbook-printing")) return;
    plot.classList.remove("labbook-printing");
    var box = plot.querySelector(".svg-container");
    if (box) box.style.aspectRatio = "";
    plot.querySelectorAll("svg.main-svg").forEach(function (svg) {
      svg.removeAttribute("viewBox");
      svg.removeAttribute("preserveAspectRatio");
    });
    delete plot.layout.width; // back to the container's width, and responsive again
    Plotly.relayout(plot, { autosize: true });
  }

  function beforePrint() {
    document.querySelectorAll(".labbook-plot[data-labbook-figure]").forEach(function (plot) {
      draw(plot);
      printable(plot);
    });
  }

  function afterPrint() {
    document.querySelectorAll(".labbook-plot.labbook-printing").forEach(unprintable);
  }

  window.addEventListener("beforeprint", beforePrint);
  window.addEventListener("afterprint", afterPrint);
  window.labbook = Object.assign(window.labbook || {}, { beforePrint: beforePrint });

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

  // compare: "only differences" hides the rows where every run agrees.
  function watchCompareToggles(root) {
    root.querySelectorAll("input.labbook-only-differences").forEach(function (box) {
      var block = box.closest(".labbook-compare");
      if (!block || box.getAttribute("data-labbook-bound")) return;
      box.setAttribute("data-labbook-bound", "true");
      box.addEventListener("change", function () {
        block.classList.toggle("labbook-only-diff", box.checked);
      });
    });
  }

  // The notebook's run tables: a search box hides the rows whose text lacks every word.
  function watchFilters(root) {
    root.querySelectorAll("input.labbook-filter[data-labbook-filter]").forEach(function (box) {
      if (box.getAttribute("data-labbook-bound")) return;
      var block = document.getElementById(box.getAttribute("data-labbook-filter"));
      var table = block && block.querySelector("table");
      if (!table) return;
      box.setAttribute("data-labbook-bound", "true");
      var count = box.parentNode.querySelector(".labbook-filter-count");
      box.addEventListener("input", function () {
        var words = box.value.toLowerCase().split(/\s+/).filter(Boolean);
        var rows = Array.prototype.slice.call(table.tBodies[0].rows);
        var shown = 0;
        rows.forEach(function (row) {
          var text = row.textContent.toLowerCase();
          var keep = words.every(function (w) {
            return text.indexOf(w) !== -1;
          });
          row.hidden = !keep;
          if (keep) shown += 1;
        });
        if (count) count.textContent = words.length ? shown + " of " + rows.length + " runs" : "";
      });
    });
  }

  function init() {
    drawCharts(document);
    makeSortable(document);
    watchFilters(document);
    addTableDownloads(document);
    watchCompareToggles(document);
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
