// Tessera — "Add to wallet" (badges/wallet.html): counts down the minutes left on the one-time
// wallet link, and says when it has expired. The page works without this script: it states
// the time the link stops working.

// Words come from Django's JavaScript catalog (/i18n/catalog.js, loaded by base.html): its global
// gettext/ngettext/pgettext/interpolate; without the catalog, the English text as written.
const {
  gettext = (text) => text,
  pgettext = (context, text) => text,
  ngettext = (singular, plural, count) => (count === 1 ? singular : plural),
  interpolate = (format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])),
} = window

function countdown (expiry) {
  const until = Date.parse(expiry.dataset.expires)
  const text = expiry.querySelector('[data-role="countdown"]')
  const status = document.querySelector('[data-role="expired-status"]')
  if (!text || Number.isNaN(until)) return
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 60000)
    if (left > 0) {
      text.textContent = left === 1
        ? gettext('less than a minute left')
        : interpolate(ngettext('%(left)s minute left', '%(left)s minutes left', left), { left }, true)
      return true
    }
    text.textContent = pgettext('wallet link', 'expired')
    if (status) status.textContent = gettext('This link has expired: make a new link to add the badge to your wallet.')
    return false
  }
  if (tick()) {
    const timer = setInterval(() => { if (!tick()) clearInterval(timer) }, 15000)
  }
}

const expiry = document.getElementById('wallet-expiry')
if (expiry) countdown(expiry)
