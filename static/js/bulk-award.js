// The progress bar of a bulk award's issuing (templates/admin/badges/bulkaward/award.html):
// polls the award's status every second and reloads the page when every badge is issued.
(function () {
  "use strict";
  var bar = document.getElementById("award-progress");
  if (!bar || !bar.dataset.statusUrl) return;
  var text = document.getElementById("award-progress-text");
  function poll() {
    fetch(bar.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        bar.max = status.total || 1;
        bar.value = status.done;
        bar.textContent = status.done;
        text.textContent = status.done + " of " + status.total;
        if (!status.running) {
          window.location.reload();
          return;
        }
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
