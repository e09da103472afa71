// Tessera — the catalog's disclosures (the organization's introduction, the search and filters)
// are closed in the page, so that on a phone the first credentials show on the first screen.
// Where they fit beside the results (a wide screen) they open. Without this script they stay
// closed, and open when pressed. Loaded (not deferred) right after them: they open before the
// page is first drawn.
if (window.matchMedia('(min-width: 801px)').matches) {
  for (const details of document.querySelectorAll('details[data-open-when-wide]')) details.open = true
}
