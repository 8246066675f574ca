// Tawasul's only script of its own. The pages work without it.
(function () {
  "use strict";
  // No polling while the tab is hidden; "visibilitychange from:document" in the
  // panel's trigger refreshes it as soon as the tab is shown again.
  document.addEventListener("htmx:config:request", function (event) {
    if (document.hidden && event.target.closest("[data-poll]")) event.preventDefault();
  });
  // Back-off: a status panel that saw no change asks less often (every data-poll-every
  // seconds, then twice as long each time, up to data-poll-max); a change, the tab
  // shown again, or the resident acting brings it back to the short interval.
  var wait = 0, timer = 0;
  function poller() { return document.querySelector("[data-poll-every]"); }
  function schedule(reset) {
    var panel = poller();
    clearTimeout(timer);
    if (!panel) return;
    var every = 1000 * Number(panel.getAttribute("data-poll-every"));
    var most = 1000 * Number(panel.getAttribute("data-poll-max"));
    wait = reset || !wait ? every : Math.min(2 * wait, most);
    timer = setTimeout(function () { if (poller()) htmx.trigger(poller(), "poll"); }, wait);
  }
  // (after:request, not finally: a swapped-out panel is no longer in the document.)
  function polled(event) {
    if (!event.target.hasAttribute || !event.target.hasAttribute("data-poll-every")) return;
    var response = event.detail.ctx.response;
    schedule(Boolean(response) && response.status !== 204 && response.status < 400);
  }
  document.addEventListener("htmx:after:request", polled);
  document.addEventListener("htmx:error", polled);
  document.addEventListener("visibilitychange", function () { if (!document.hidden) schedule(true); });
  ["click", "keydown", "submit"].forEach(function (type) {
    document.addEventListener(type, function () { if (wait > 0) schedule(true); }, true);
  });
  if (document.readyState === "loading") {
    document.addEventListener("DOMContentLoaded", function () { schedule(true); });
  } else {
    schedule(true);
  }
  // Refuse an oversized file before it is uploaded on a metered connection.
  document.addEventListener("change", function (event) {
    var input = event.target;
    if (!input.matches || !input.matches("input[type=file][data-max-bytes]")) return;
    var max = Number(input.getAttribute("data-max-bytes"));
    var tooBig = Array.prototype.some.call(input.files, function (f) { return f.size > max; });
    input.setCustomValidity(tooBig ? input.getAttribute("data-too-big") : "");
    input.reportValidity();
  });
  // The new request form: once a service is chosen, the persons who may not have it
  // cannot be picked and its rule shows beside them (the server does the same without
  // JavaScript, after "Show who may apply", which is not needed here).
  function applyService(service) {
    var code = service.value, rule = service.getAttribute("data-rule") || "";
    service.form.querySelectorAll("input[name=person][data-excluded]").forEach(function (person) {
      var excluded = person.getAttribute("data-excluded").split(" ").indexOf(code) >= 0;
      var why = document.getElementById(person.id + "-why");
      person.disabled = excluded;
      if (excluded) person.checked = false;
      if (why) { why.textContent = excluded ? rule : ""; why.hidden = !excluded; }
      person.closest(".choice").classList.toggle("blocked", excluded);
    });
  }
  document.addEventListener("change", function (event) {
    if (event.target.matches && event.target.matches("input[type=radio][name=service]")) applyService(event.target);
  });
  document.querySelectorAll(".js-remove").forEach(function (element) { element.remove(); });
  // Print buttons (hidden without JavaScript: the receipt page is printable as it is).
  document.querySelectorAll("button[data-print]").forEach(function (button) {
    button.hidden = false;
    button.addEventListener("click", function () { window.print(); });
  });
  // A form marked data-once is sent once, even after a double tap.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.hasAttribute("data-once")) return;
    if (form.dataset.sent) { event.preventDefault(); return; }
    form.dataset.sent = "1";
  });
})();
