// "Copy link" beside the letter's address. Without this script the address is still there to
// select and copy by hand; with it, one press copies it and says so.
(function () {
  "use strict";

  function copied(button, status) {
    status.textContent = button.getAttribute("data-copied");
  }

  document.addEventListener("DOMContentLoaded", function () {
    var buttons = document.querySelectorAll("[data-copy]");
    for (var i = 0; i < buttons.length; i++) {
      (function (button) {
        var field = document.getElementById(button.getAttribute("data-copy"));
        var status = button.parentNode.parentNode.querySelector(".copy-status");
        if (!field || !status) { return; }
        button.hidden = false;
        field.addEventListener("focus", function () { field.select(); });
        button.addEventListener("click", function () {
          field.select();
          if (navigator.clipboard && window.isSecureContext) {
            navigator.clipboard.writeText(field.value).then(function () { copied(button, status); }, function () {
              if (document.execCommand("copy")) { copied(button, status); }
            });
          } else if (document.execCommand("copy")) {
            copied(button, status);
          }
        });
      })(buttons[i]);
    }
  });
})();
