// The progress bar of a roster import's dry run or apply (templates/admin/programs/rosterimport/
// import.html): polls the import's status every second and reloads the page when it is done.
(function () {
  "use strict";
  var bar = document.getElementById("roster-progress");
  if (!bar) return;
  var text = document.getElementById("roster-progress-text");
  function poll() {
    fetch(bar.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (!status.running) {
          window.location.reload();
          return;
        }
        if (status.total) bar.max = status.total;
        bar.value = status.done;
        bar.textContent = status.done;
        text.textContent = status.done + " rows" + (status.total ? " of about " + status.total : "");
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
