/* The sign-off queue: "Tick all listed" ticks every session on the page (or unticks them when all are
   ticked), and the sign-off button says how many are ticked. Without this script each box is ticked by hand. */
(function () {
  "use strict";
  var form = document.querySelector("[data-test=queue-form]");
  if (!form) return;
  var boxes = Array.prototype.slice.call(form.querySelectorAll("input[name=session_id]"));
  var all = form.querySelector("[data-tick-all]");
  var count = form.querySelector("[data-ticked-count]");

  function ticked() { return boxes.filter(function (b) { return b.checked; }).length; }
  function update() {
    var n = ticked();
    count.textContent = n ? " (" + n + ")" : "";
    all.textContent = n === boxes.length ? "Untick all" : "Tick all listed";
  }
  all.hidden = false;
  all.addEventListener("click", function () {
    var on = ticked() !== boxes.length;
    boxes.forEach(function (b) { b.checked = on; });
    update();
  });
  form.addEventListener("change", update);
  update();
})();
