// Tessera — the badge verification page and the owner's share panel (badges/_share.html, also
// on the backpack). Everything works without this script: the server checked the badge when it
// rendered the page, and the share fields can be selected and copied by hand. This adds:
//   - "Verify now": re-checks signature, revocation status and dates (GET badges:check) and
//     announces each result (aria-live);
//   - "Check who earned it": compares sha256(e-mail + salt) with the credential's identity
//     hash, in the browser (the address is sent nowhere);
//   - copy buttons (link, e-mail signature) with a visible confirmation.

// Words come from Django's JavaScript catalog (/i18n/catalog.js, loaded by base.html): its global
// gettext/pgettext/interpolate; without the catalog, the English text as written.
const {
  gettext = (text) => text,
  pgettext = (context, text) => text,
  interpolate = (format, values) => format.replace(/%\((\w+)\)s/g, (_, name) => String(values[name])),
} = window

const CHECK_LABELS = {
  signature: gettext('Signature'),
  status: gettext('Revocation status'),
  expiry: gettext('Validity dates'),
}

const STATUS_LABELS = {
  valid: gettext('Valid'),
  expired: gettext('Expired'),
  revoked: gettext('Revoked'),
  invalid: gettext('Could not be verified'),
}

// "passed" or "failed", as the page says it beside each check
function outcome (check) {
  return check.ok ? pgettext('verification check', 'passed') : pgettext('verification check', 'failed')
}

function checkItem (check) {
  const item = document.createElement('li')
  item.className = 'check ' + (check.ok ? 'check-ok' : 'check-fail')
  const mark = document.createElement('span')
  mark.className = 'check-mark'
  mark.setAttribute('aria-hidden', 'true')
  mark.textContent = check.ok ? '✓' : '✗'
  const text = document.createElement('span')
  const label = document.createElement('strong')
  label.textContent = CHECK_LABELS[check.check] || check.check
  text.append(label, ` — ${outcome(check)}: ${check.message}`)
  item.append(mark, text)
  return item
}

function setupVerify (panel) {
  const button = panel.querySelector('[data-role="verify"]')
  const list = panel.querySelector('[data-role="checks"]')
  const live = panel.querySelector('[data-role="verify-status"]')
  const checkedAt = panel.querySelector('[data-role="checked-at"]')
  const statusText = panel.querySelector('[data-role="status-text"]')
  const url = panel.dataset.checkUrl
  if (!button || !list || !live || !url) return
  button.hidden = false

  button.addEventListener('click', async () => {
    button.disabled = true
    live.textContent = gettext('Checking the signature, the revocation list and the dates…')
    try {
      const response = await fetch(url, { headers: { Accept: 'application/json' }, cache: 'no-store' })
      if (!response.ok) {
        throw new Error(interpolate(gettext('The server answered %(status)s.'), { status: response.status }, true))
      }
      const result = await response.json()
      list.replaceChildren(...result.checks.map(checkItem))
      const label = STATUS_LABELS[result.status] || result.status
      if (statusText) {
        statusText.textContent = label
        statusText.className = `status-text status-text-${result.status}`
      }
      if (checkedAt) {
        checkedAt.textContent = interpolate(
          gettext('Checked again at %(time)s.'), { time: new Date().toLocaleTimeString() }, true)
      }
      const details = result.checks
        .map((c) => `${CHECK_LABELS[c.check] || c.check} ${outcome(c)}: ${c.message}`)
        .join(' ')
      live.textContent = interpolate(gettext('Result: %(status)s. %(details)s'), { status: label, details }, true)
    } catch (error) {
      live.textContent = interpolate(
        gettext('The check could not be run (%(error)s). The results above are from when the page was loaded.'),
        { error: error.message }, true)
    } finally {
      button.disabled = false
    }
  })
}

async function sha256Hex (text) {
  const digest = await crypto.subtle.digest('SHA-256', new TextEncoder().encode(text))
  return Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, '0')).join('')
}

function setupIdentity (box) {
  const expected = box.dataset.identityHash || ''
  const salt = box.dataset.salt || ''
  const form = box.querySelector('[data-role="identity-form"]')
  const result = box.querySelector('[data-role="identity-result"]')
  // SubtleCrypto exists only on secure pages (HTTPS, localhost).
  if (!form || !result || !expected.startsWith('sha256$') || !(window.crypto && crypto.subtle)) return
  box.hidden = false
  form.addEventListener('submit', async (event) => {
    event.preventDefault()
    const email = (form.elements.email.value || '').trim().toLowerCase()
    if (!email) {
      result.textContent = gettext('Type an e-mail address first.')
      return
    }
    const hash = 'sha256$' + (await sha256Hex(email + salt))
    result.textContent = interpolate(
      hash === expected.toLowerCase()
        ? gettext('Yes: this badge was issued to %(email)s.')
        : gettext('No: this badge was not issued to %(email)s.'),
      { email }, true)
  })
}

async function copyFrom (field) {
  const text = field.value
  if (navigator.clipboard && window.isSecureContext) {
    await navigator.clipboard.writeText(text)
    return
  }
  field.focus()
  field.select()
  if (!document.execCommand('copy')) throw new Error('copy refused')
}

function setupCopy (button) {
  const field = document.getElementById(button.dataset.copy)
  const status = document.querySelector(`[data-copy-status="${button.dataset.copy}"]`)
  if (!field) return
  button.hidden = false
  let timer = null
  button.addEventListener('click', async () => {
    try {
      await copyFrom(field)
      if (status) status.textContent = gettext('Copied to the clipboard.')
      button.classList.add('copied')
    } catch (error) {
      field.focus()
      field.select()
      if (status) status.textContent = gettext('Copying was blocked: the text is selected, press Ctrl+C (⌘C on a Mac).')
    }
    clearTimeout(timer)
    timer = setTimeout(() => {
      if (status) status.textContent = ''
      button.classList.remove('copied')
    }, 6000)
  })
}

document.querySelectorAll('.verify-panel[data-check-url]').forEach(setupVerify)
document.querySelectorAll('[data-role="identity"]').forEach(setupIdentity)
document.querySelectorAll('button[data-copy]').forEach(setupCopy)
