/* Behaviour every page shares, from a file (the Content-Security-Policy allows no inline script).
   - A form or button with data-confirm="Question?" asks before an action that cannot be undone.
   - A button with data-print prints the page.
   - A table too wide for its screen is shown as stacked cards, one per row, each value beside
     its column's label (the labels come from the table's header; app.css draws the cards).
   - A form sent back with errors marks its fields aria-invalid, links each to its message and
     puts the focus on the first. */
(function () {
  "use strict";

  document.addEventListener("submit", function (event) {
    var button = event.submitter;
    var question = (button && button.dataset.confirm) || event.target.dataset.confirm;
    if (question && !window.confirm(question)) event.preventDefault();
  });

  document.addEventListener("click", function (event) {
    if (event.target.closest("[data-print]")) window.print();
  });

  function labelCells(table) {
    var headers = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
      return th.textContent.replace(/\s+/g, " ").trim();
    });
    Array.prototype.forEach.call(table.querySelectorAll("tbody tr"), function (row) {
      var column = 0;
      Array.prototype.forEach.call(row.children, function (cell) {
        if (!cell.hasAttribute("data-label") && headers[column]) cell.setAttribute("data-label", headers[column]);
        column += cell.colSpan || 1;
      });
    });
  }

  // Stack a table only when it would not fit: narrow tables stay tables on a phone.
  function fit() {
    Array.prototype.forEach.call(document.querySelectorAll("table.table"), function (table) {
      if (table.dataset.stack === "never" || !table.tHead) return;
      table.classList.remove("table-stacked");
      var box = table.parentElement, style = getComputedStyle(box);
      var room = box.clientWidth - parseFloat(style.paddingLeft) - parseFloat(style.paddingRight);
      if (table.getBoundingClientRect().width > room + 1) {
        labelCells(table);
        table.classList.add("table-stacked");
      }
    });
  }

  // A region that still scrolls sideways must be reachable by keyboard, and named.
  function focusableScrollers() {
    Array.prototype.forEach.call(document.querySelectorAll(".table-responsive"), function (box) {
      if (box.scrollWidth <= box.clientWidth + 1 || box.hasAttribute("tabindex")) return;
      var table = box.querySelector("table"), caption = table && table.caption;
      var heading = box.closest("section, .card, details");
      heading = heading && heading.querySelector("h1, h2, h3, h4, summary");
      box.setAttribute("tabindex", "0");
      box.setAttribute("role", "region");
      box.setAttribute("aria-label", (caption || heading || document.querySelector("h1") || {}).textContent || "Table");
    });
  }

  // A form sent back with errors: each invalid field says so to a screen reader, names its
  // message, and the first one takes the focus.
  function describeErrors() {
    var first = null;
    Array.prototype.forEach.call(document.querySelectorAll("form .is-invalid"), function (field, index) {
      field.setAttribute("aria-invalid", "true");
      var box = field.closest(".mb-3, .col, [class*='col-'], .form-check, .input-group") || field.parentElement;
      var message = box && box.querySelector(".invalid-feedback");
      if (message) {
        if (!message.id) message.id = (field.id || "field-" + index) + "-error";
        var ids = (field.getAttribute("aria-describedby") || "").split(" ").filter(Boolean);
        if (ids.indexOf(message.id) < 0) field.setAttribute("aria-describedby", ids.concat(message.id).join(" "));
      }
      first = first || field;
    });
    if (first) first.focus();
  }

  function ready() { fit(); focusableScrollers(); describeErrors(); }

  var pending = null;
  window.addEventListener("resize", function () {
    if (pending) cancelAnimationFrame(pending);
    pending = requestAnimationFrame(function () { fit(); focusableScrollers(); });
  });
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", ready);
  else ready();
})();
