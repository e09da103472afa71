// Counts for program insight (badges/insights/engagement.py): one view of a badge's
// verification page, and one share when its earner uses a button of the sharing panel
// (LinkedIn, or copying the link, signature or embed code). A same-origin POST without a body:
// nothing about the visitor is sent or kept. The page is served from a shared cache, so the
// page itself reports the view. Loaded as a module: once per page, however many panels.
const post = (url) => {
  if (!url || !window.fetch) { return; }
  window.fetch(url, { method: "POST", credentials: "same-origin", keepalive: true })
    .catch(() => {});
};

const seen = document.querySelector("script[data-badge-seen]");
if (seen) { post(seen.getAttribute("data-badge-seen")); }

document.addEventListener("click", (event) => {
  const target = event.target instanceof Element
    ? event.target.closest("[data-share-action], [data-copy]")
    : null;
  const panel = target && target.closest("[data-badge-shared]");
  if (panel) { post(panel.getAttribute("data-badge-shared")); }
});
