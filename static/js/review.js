// The review form: the "What to change" box follows the decision, and the passing summary
// ("4 of 5 criteria at passing level") follows the ratings as they change. Approve is offered
// only when every criterion is at its passing level; the server refuses it otherwise anyway
// (reviews.services.review_submit), so this only saves the reviewer a round trip. Its text comes
// from the page's JavaScript catalog (gettext, loaded by base.html).
const form = document.getElementById("review-form");
const box = document.getElementById("revision-box");
const summary = document.getElementById("passing-summary");
const summaryText = document.getElementById("passing-summary-text");
const belowList = document.getElementById("below-passing");
const approve = form.querySelector("input[name=decision][value=approve]");
const editable = approve !== null && "editable" in form.dataset;

const updateRevisionBox = () => {
  const chosen = form.querySelector("input[name=decision]:checked");
  const invalid = box.querySelector("[aria-invalid=true]");
  box.hidden = !invalid && !(chosen && chosen.value === "needs_revision");
};

const updateSummary = () => {
  const criteria = [...form.querySelectorAll("fieldset.criterion")];
  const below = criteria.filter((fieldset) => !fieldset.querySelector("input[type=radio][data-meets]:checked"));
  const passing = criteria.length - below.length;
  const all = below.length === 0;
  const counted = document.createElement("strong");
  counted.textContent = interpolate(gettext("%(passing)s of %(total)s"), { passing, total: criteria.length }, true);
  summaryText.replaceChildren(
    counted,
    " ",
    all
      ? gettext("criteria at passing level.")
      : gettext("criteria at passing level: approve is offered when every criterion reaches its passing level."),
  );
  summary.classList.toggle("passing-summary-met", all);
  if (belowList) {
    belowList.replaceChildren(
      ...below.map((fieldset) => {
        const item = document.createElement("li");
        const link = document.createElement("a");
        link.href = `#${fieldset.id}`;
        link.textContent = fieldset.dataset.criterion;
        item.append(link);
        return item;
      }),
    );
  }
  if (editable) {
    approve.disabled = !all;
    if (!all && approve.checked) {
      approve.checked = false;
      updateRevisionBox();
    }
  }
};

form.addEventListener("change", (event) => {
  if (event.target.name === "decision") updateRevisionBox();
  if (event.target.name?.startsWith("score_")) updateSummary();
});
updateRevisionBox();
updateSummary();
const errors = document.getElementById("review-errors");
if (errors) errors.focus();
