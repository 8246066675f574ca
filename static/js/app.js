// Tawasul's only script of its own. The pages work without it.
(function () {
  "use strict";
  // No polling while the tab is hidden; "visibilitychange from:document" in the
  // panel's trigger refreshes it as soon as the tab is shown again.
  document.addEventListener("htmx:config:request", function (event) {
    if (document.hidden && event.target.closest("[data-poll]")) event.preventDefault();
  });
  // Refuse an oversized file before it is uploaded on a metered connection.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var max = Number(input.getAttribute("data-max-bytes"));
    var tooBig = Array.prototype.some.call(input.files, function (f) { return f.size > max; });
    input.setCustomValidity(tooBig ? input.getAttribute("data-too-big") : "");
    input.reportValidity();
  });
  // A form marked data-once is sent once, even after a double tap.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });
})();
