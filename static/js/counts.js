// Keeps the signature counts on the page current without a reload.
// The page is complete without this script; it only refreshes the figures.
(function () {
  "use strict";

  function refresh(box) {
    var request = new XMLHttpRequest();
    request.open("GET", box.getAttribute("data-counts-url"));
    request.responseType = "json";
    request.onload = function () {
      if (request.status !== 200 || !request.response) { return; }
      var figures = box.querySelectorAll("[data-count]");
      for (var i = 0; i < figures.length; i++) {
        var key = figures[i].getAttribute("data-count");
        if (typeof request.response[key] === "number") {
          figures[i].textContent = request.response[key].toLocaleString(document.documentElement.lang || undefined);
        }
      }
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
