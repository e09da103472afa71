// Tessera — "Add to wallet" (badges/wallet.html): counts down the minutes left on the one-time
// wallet link, and says when it has expired. The page works without this script: it states
// the time the link stops working.

function countdown (expiry) {
  const until = Date.parse(expiry.dataset.expires)
  const text = expiry.querySelector('[data-role="countdown"]')
  const status = document.querySelector('[data-role="expired-status"]')
  if (!text || Number.isNaN(until)) return
  const tick = () => {
    const left = Math.ceil((until - Date.now()) / 60000)
    if (left > 0) {
      text.textContent = left === 1 ? 'less than a minute left' : `${left} minutes left`
      return true
    }
    text.textContent = 'expired'
    if (status) status.textContent = 'This link has expired: make a new link to add the badge to your wallet.'
    return false
  }
  if (tick()) {
    const timer = setInterval(() => { if (!tick()) clearInterval(timer) }, 15000)
  }
}

const expiry = document.getElementById('wallet-expiry')
if (expiry) countdown(expiry)
