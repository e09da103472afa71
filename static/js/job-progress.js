// The progress bar of a long job on an admin page (templates/admin/includes/job_progress.html:
// a roster import's dry run or apply, a bulk award's issuing): polls the job's status every
// second, moves the bar and its text ("120 rows of about 5000", "12 of 40") and reloads the
// page when the job is done.
(function () {
  "use strict";
  var bar = document.querySelector("progress.job-progress[data-status-url]");
  if (!bar) return;
  var text = document.getElementById(bar.dataset.text);
  function show(status) {
    if (status.total) bar.max = status.total;
    bar.value = status.done;
    bar.textContent = status.done;
    text.textContent =
      status.done +
      (bar.dataset.unit ? " " + bar.dataset.unit : "") +
      (status.total ? " " + bar.dataset.of + " " + status.total : "");
  }
  function poll() {
    fetch(bar.dataset.statusUrl, { credentials: "same-origin", headers: { Accept: "application/json" } })
      .then(function (response) { return response.json(); })
      .then(function (status) {
        if (!status.running) {
          window.location.reload();
          return;
        }
        show(status);
        window.setTimeout(poll, 1000);
      })
      .catch(function () { window.setTimeout(poll, 3000); });
  }
  window.setTimeout(poll, 500);
})();
