// A step clicked in the run's graph opens its details (outputs) below; the steps a person
// opened stay open when a live update redraws them.
var opened = [];
function openTarget() {
  var target = location.hash && document.getElementById(location.hash.slice(1));
  if (target && target.tagName === "DETAILS") { target.open = true; }
}
document.addEventListener("htmx:sseBeforeMessage", function () {
  opened = Array.prototype.map.call(document.querySelectorAll("details[open][id]"),
                                    function (d) { return d.id; });
});
document.addEventListener("htmx:sseMessage", function () {
  opened.forEach(function (id) {
    var d = document.getElementById(id);
    if (d) { d.open = true; }
  });
});
window.addEventListener("hashchange", openTarget);
document.addEventListener("DOMContentLoaded", openTarget);
