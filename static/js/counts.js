// Keeps the signature counts on the page current without a reload: the figures, their labels
// (one signature, two signatures), the bar that splits them between the groups, and the goal.
// The page is complete without this script; it only refreshes what the server drew.
(function () {
  "use strict";

  function show(box, figures) {
    var language = document.documentElement.lang || undefined;
    var numbers = box.querySelectorAll("[data-count]");
    for (var i = 0; i < numbers.length; i++) {
      var n = figures[numbers[i].getAttribute("data-count")];
      if (typeof n !== "number") { continue; }
      numbers[i].textContent = n.toLocaleString(language);
      var label = numbers[i].parentNode.querySelector("[data-one]");
      if (label) { label.textContent = label.getAttribute(n === 1 ? "data-one" : "data-other"); }
    }
    var start = 0;
    var parts = box.querySelectorAll("[data-split-bar] rect");
    for (var j = 0; j < parts.length; j++) {
      var share = figures.total ? 100 * (figures[parts[j].getAttribute("data-group")] || 0) / figures.total : 0;
      parts[j].setAttribute("x", start.toFixed(3));
      parts[j].setAttribute("width", share.toFixed(3));
      start += share;
    }
    if (typeof figures.total === "number") {
      var empty = figures.total === 0;
      var waiting = box.querySelectorAll("[data-while-empty]");
      for (var k = 0; k < waiting.length; k++) { waiting[k].hidden = !empty; }
      var signed = box.querySelectorAll("[data-once-signed]");
      for (var m = 0; m < signed.length; m++) {
        if (empty) { signed[m].setAttribute("hidden", ""); } else { signed[m].removeAttribute("hidden"); }
      }
    }
    var goal = box.querySelector("progress[data-goal]");
    if (goal && typeof figures.total === "number") {
      goal.value = Math.min(figures.total, Number(goal.getAttribute("data-goal")));
    }
  }

  function refresh(box) {
    var request = new XMLHttpRequest();
    request.open("GET", box.getAttribute("data-counts-url"));
    request.responseType = "json";
    request.onload = function () {
      if (request.status === 200 && request.response) { show(box, request.response); }
    };
    request.send();
  }

  document.addEventListener("DOMContentLoaded", function () {
    var boxes = document.querySelectorAll("[data-counts-url]");
    if (!boxes.length) { return; }
    var seconds = parseInt(boxes[0].getAttribute("data-refresh-seconds"), 10) || 15;
    setInterval(function () {
      if (document.hidden) { return; }
      for (var i = 0; i < boxes.length; i++) { refresh(boxes[i]); }
    }, seconds * 1000);
  });
})();
