// Tessera — the application page's enhancements. Every form on the page works without this
// script; it adds, on top:
//   - an uploader per file step: Uppy (from npm, built into static/vendor/uppy/ by
//     `make vendor`, never from a CDN), sending the bytes straight to object storage through the
//     JSON API's upload slots (presigned POST, or multipart above the threshold) as soon as a
//     file is chosen;
//   - autosave of written answers, with a live word count.
// The API: /api/v1/orgs/<org>/applications/<uuid>/ (see submissions/api.py).
// Its words are in the page's language: gettext, ngettext and interpolate come from Django's
// JavaScript catalog (/i18n/catalog.js, loaded by base.html; submissions/locale/*/djangojs.po),
// and Uppy's own words from its language pack (static/vendor/uppy/locales/, `make vendor`).

const config = document.getElementById('evidence-config')
const API = config ? config.dataset.api : ''

// Accepted kinds of evidence → what the file picker offers (the server checks the bytes).
const KIND_TYPES = {
  document: ['.pdf', '.doc', '.docx', '.odt', '.rtf'],
  presentation: ['.ppt', '.pptx', '.odp', '.pdf'],
  spreadsheet: ['.xls', '.xlsx', '.ods'],
  image: ['image/*'],
  audio: ['audio/*'],
  video: ['video/*'],
}

// Some browsers report no type for some files (.odt, .heic, ...): name one from the extension.
const TYPE_BY_EXTENSION = {
  pdf: 'application/pdf',
  doc: 'application/msword',
  docx: 'application/vnd.openxmlformats-officedocument.wordprocessingml.document',
  odt: 'application/vnd.oasis.opendocument.text',
  rtf: 'application/rtf',
  ppt: 'application/vnd.ms-powerpoint',
  pptx: 'application/vnd.openxmlformats-officedocument.presentationml.presentation',
  odp: 'application/vnd.oasis.opendocument.presentation',
  xls: 'application/vnd.ms-excel',
  xlsx: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet',
  ods: 'application/vnd.oasis.opendocument.spreadsheet',
  jpg: 'image/jpeg',
  jpeg: 'image/jpeg',
  png: 'image/png',
  gif: 'image/gif',
  webp: 'image/webp',
  heic: 'image/heic',
  heif: 'image/heif',
  mp3: 'audio/mpeg',
  m4a: 'audio/mp4',
  wav: 'audio/wav',
  ogg: 'audio/ogg',
  aac: 'audio/aac',
  flac: 'audio/x-flac',
  mp4: 'video/mp4',
  m4v: 'video/x-m4v',
  mov: 'video/quicktime',
  webm: 'video/webm',
  avi: 'video/x-msvideo',
  mpeg: 'video/mpeg',
}

function contentTypeOf (file) {
  if (file.type) return file.type
  const extension = (file.name || '').split('.').pop().toLowerCase()
  return TYPE_BY_EXTENSION[extension] || 'application/octet-stream'
}

function csrfToken () {
  const match = document.cookie.match(/(?:^|;\s*)csrftoken=([^;]+)/)
  return match ? decodeURIComponent(match[1]) : ''
}

class ApiError extends Error {
  constructor (message, status, body) {
    super(message)
    this.name = 'ApiError'
    this.status = status
    this.body = body
  }
}

// One call to the JSON API, with the session cookie and the CSRF token. Errors carry the
// server's message, written for a person ({"code", "message", "fields"}).
async function api (method, path, body, { signal } = {}) {
  const headers = { Accept: 'application/json', 'X-CSRFToken': csrfToken() }
  if (body !== undefined) headers['Content-Type'] = 'application/json'
  const response = await fetch(API + path, {
    method,
    headers,
    credentials: 'same-origin',
    body: body === undefined ? undefined : JSON.stringify(body),
    signal,
  })
  if (response.status === 204) return null
  let data = null
  try {
    data = await response.json()
  } catch {
    data = null
  }
  if (!response.ok) {
    let message = data && data.message
    if (!message && response.status === 403) {
      message = gettext('You are no longer logged in. Reload the page and log in again.')
    }
    throw new ApiError(
      message || interpolate(gettext('The server answered %(status)s. Try again.'), { status: response.status }, true),
      response.status,
      data,
    )
  }
  return data
}

function say (region, text, { failed = false, spokenOnly = false } = {}) {
  if (!region) return
  const line = document.createElement('p')
  line.textContent = text
  if (failed) line.className = 'failed'
  if (spokenOnly) line.className = 'visually-hidden' // announced; the page shows it elsewhere
  region.append(line)
}

// Fetch the page again and swap in the fresh copies of some of its regions (a step's items, the
// progress list), so the uploader, the announcements and other forms stay as they are.
async function refreshRegions (ids) {
  try {
    const response = await fetch(window.location.pathname, {
      credentials: 'same-origin',
      headers: { Accept: 'text/html' },
    })
    if (!response.ok) throw new Error(String(response.status))
    const fresh = new DOMParser().parseFromString(await response.text(), 'text/html')
    for (const id of ids) {
      const region = document.getElementById(id)
      const replacement = fresh.getElementById(id)
      if (region && replacement) region.replaceWith(document.importNode(replacement, true))
    }
  } catch {
    window.location.reload()
  }
}

// --- The uploader ----------------------------------------------------------------------------

// Storage's answer headers, by lower-case name (only those its CORS rules let a page read).
function responseHeaders (xhr) {
  const headers = {}
  for (const line of xhr.getAllResponseHeaders().trim().split(/[\r\n]+/)) {
    const [name, ...value] = line.split(': ')
    if (name) headers[name.toLowerCase()] = value.join(': ')
  }
  return headers
}

// Send one request's bytes to storage: Uppy's AwsS3 `uploadPartBytes`, told apart from its own in
// two ways. Storage that leaves the Location header out of its answer to a POST (SeaweedFS does;
// the bucket's CORS rules expose it where storage sends it) is not an error on the console: the
// uploader never uses the address, the server confirms the item by its id. And an answer without
// an ETag fails the upload (with Retry) instead of leaving it waiting for ever.
function sendBytes ({ signature: { url, headers = {}, method = 'PUT' }, body, onProgress, onComplete, signal }) {
  return new Promise((resolve, reject) => {
    const aborted = () => reject(new DOMException('Aborted', 'AbortError'))
    if (signal && signal.aborted) return aborted()
    const xhr = new XMLHttpRequest()
    const onabort = () => xhr.abort()
    const fail = (message) => {
      const error = new Error(message)
      error.source = xhr
      reject(error)
    }
    if (signal) signal.addEventListener('abort', onabort)
    const cleanup = () => signal && signal.removeEventListener('abort', onabort)
    xhr.open(method, url, true)
    for (const [name, value] of Object.entries(headers)) xhr.setRequestHeader(name, value)
    xhr.responseType = 'text'
    xhr.upload.addEventListener('progress', (event) => onProgress && onProgress(event))
    xhr.addEventListener('abort', () => {
      cleanup()
      aborted()
    })
    xhr.addEventListener('error', () => {
      cleanup()
      fail(gettext('Unknown error'))
    })
    xhr.addEventListener('load', () => {
      cleanup()
      if (xhr.status === 403 && xhr.responseText.includes('<Message>Request has expired</Message>')) return fail('Request has expired') // Uppy's signal to sign again: not translated
      if (xhr.status < 200 || xhr.status >= 300) return fail('Non 2xx')
      const answer = responseHeaders(xhr)
      if (!answer.etag) return fail(gettext('storage did not say it received the file'))
      if (onComplete) onComplete(answer.etag)
      // without a location, Uppy names the file's address from the request's URL
      resolve({ ...answer, ETag: answer.etag, location: answer.location || undefined })
    })
    xhr.send(body)
  })
}

// Each uploader's busy(): the names of its files still uploading or being checked (submit waits).
const uploaders = []

// Uppy's words in Spanish: its own language pack, with the words our uploader shows said
// formally ("usted", as the rest of the site) and those the pack lacks (from our catalog).
function spanishUppyLocale (pack) {
  return {
    ...pack,
    strings: {
      ...pack.strings,
      dropHint: gettext('Drop your files here'),
      recoveredAllFiles: gettext('We restored all files. You can now resume the upload.'),
      youCanOnlyUploadFileTypes: gettext('You can only upload: %{types}'),
      youCanOnlyUploadX: {
        0: gettext('You can only upload %{smart_count} file'),
        1: gettext('You can only upload %{smart_count} files'),
      },
      failedToAddFiles: gettext('Failed to add files'),
      dataUploadedOfUnknown: gettext('%{complete} of unknown'),
      aggregateExceedsSize: gettext('You selected %{size} of files, but maximum allowed size is %{sizeAllowed}'),
      unnamed: gettext('Unnamed'),
      pleaseWait: gettext('Please wait'),
    },
  }
}

// Uppy's language pack for the page's language (none for English: Uppy's own words).
async function uppyLocale () {
  const language = (document.documentElement.lang || '').toLowerCase()
  if (!language.startsWith('es') || !config.dataset.uppyLocaleSrcEs) return undefined
  try {
    const pack = await import(config.dataset.uppyLocaleSrcEs)
    return spanishUppyLocale(pack.default)
  } catch {
    return undefined // Uppy's English rather than no uploader
  }
}

function mountUploader (element, { Uppy, Dashboard, AwsS3, GoldenRetriever }, locale) {
  const step = Number(element.dataset.step)
  const status = document.getElementById(element.dataset.status)
  const kinds = (element.dataset.acceptedKinds || '').split(',').filter(Boolean)
  const allowedFileTypes = [...new Set(kinds.flatMap((kind) => KIND_TYPES[kind] || []))]
  const threshold = Number(element.dataset.multipartThreshold) || 100 * 1024 * 1024
  const partSize = Number(element.dataset.partSize) || 64 * 1024 * 1024
  const maxFiles = () => {
    const items = document.getElementById(element.dataset.items)
    return Number(items ? items.dataset.remaining : element.dataset.maxFiles)
  }

  const uppy = new Uppy({
    id: `evidence-${config.dataset.application}-step-${step}`,
    // A chosen file is sent at once (no second "Upload" press); the restrictions below still
    // refuse a file before it is sent.
    autoProceed: true,
    ...(locale ? { locale } : {}),
    restrictions: {
      maxFileSize: Number(element.dataset.maxFileSize) || null,
      maxNumberOfFiles: Number(element.dataset.maxFiles) || null,
      allowedFileTypes: allowedFileTypes.length ? allowedFileTypes : null,
    },
  })

  // file.id → evidence item id, from the slot (kept in the file's meta too, so that Golden
  // Retriever restores it with an interrupted upload).
  const itemIds = new Map()
  const itemOf = (file) => itemIds.get(file.id) || (uppy.getFile(file.id) || file).meta.itemId
  const remember = (file, itemId) => {
    itemIds.set(file.id, itemId)
    if (uppy.getFile(file.id)) uppy.setFileMeta(file.id, { itemId })
  }
  const settled = new Set() // confirmed or rejected by the server: never deleted on removal
  const confirming = new Set()
  let confirmations = []
  uploaders.push({
    busy: () =>
      uppy
        .getFiles()
        .filter((file) => confirming.has(file.id) || (file.progress.uploadStarted && !file.progress.uploadComplete && !file.error))
        .map((file) => file.name),
  })

  const slot = (file) =>
    api('POST', 'uploads/', {
      step,
      filename: file.name,
      size: file.size,
      content_type: contentTypeOf(file),
    })

  // An earlier slot of this file (a retry, or a restored upload) is given back first, so it
  // does not count against the number of files the step takes.
  const releaseEarlierSlot = async (file) => {
    const earlier = itemOf(file)
    if (earlier && !settled.has(file.id)) {
      await api('DELETE', `items/${earlier}/`).catch(() => {})
    }
  }

  element.replaceChildren()
  uppy.use(Dashboard, {
    inline: true,
    target: element,
    width: '100%',
    height: 320,
    theme: 'light',
    note: element.dataset.note || null,
    proudlyDisplayPoweredByUppy: false,
    hideProgressDetails: false,
    fileManagerSelectionType: 'files',
    doneButtonHandler: null,
    locale: {
      strings: {
        // %{browseFiles} is Uppy's placeholder (the "choose files" button)
        dropPasteFiles: interpolate(
          gettext('Drop files for “%(title)s” here or %(choose)s'),
          { title: element.dataset.title, choose: '%{browseFiles}' },
          true,
        ),
        browseFiles: gettext('choose files'),
      },
    },
  })

  uppy.use(AwsS3, {
    limit: 3,
    uploadPartBytes: sendBytes,
    shouldUseMultipart: (file) => (file.size || 0) > threshold,
    getChunkSize: () => partSize,

    async getUploadParameters (file, { signal } = {}) {
      await releaseEarlierSlot(file)
      const answer = await slot(file)
      remember(file, answer.item.id)
      if (answer.method !== 'POST') throw new Error(gettext('The server expected a multipart upload; reload the page and try again.'))
      return { method: 'POST', url: answer.url, fields: answer.fields, headers: {} }
    },

    async createMultipartUpload (file) {
      await releaseEarlierSlot(file)
      const answer = await slot(file)
      remember(file, answer.item.id)
      if (answer.method !== 'MULTIPART') throw new Error(gettext('The server expected a single upload; reload the page and try again.'))
      return { uploadId: answer.upload_id, key: answer.key }
    },

    async signPart (file, { partNumber, signal }) {
      const { url } = await api('POST', `uploads/${itemOf(file)}/parts/${partNumber}/`, undefined, { signal })
      return { method: 'PUT', url, headers: {} }
    },

    async listParts (file, { signal }) {
      return api('GET', `uploads/${itemOf(file)}/parts/`, undefined, { signal })
    },

    async completeMultipartUpload (file, { parts, signal }) {
      await api(
        'POST',
        `uploads/${itemOf(file)}/complete/`,
        { parts: parts.map(({ PartNumber, ETag }) => ({ PartNumber, ETag })) },
        { signal },
      )
      return {}
    },

    async abortMultipartUpload (file) {
      const itemId = itemOf(file)
      if (itemId && !settled.has(file.id)) await api('DELETE', `items/${itemId}/`).catch(() => {})
    },
  })

  if (GoldenRetriever) uppy.use(GoldenRetriever, { serviceWorker: false })

  const confirm = async (file) => {
    const itemId = itemOf(file)
    confirming.add(file.id)
    try {
      await api('POST', `uploads/${itemId}/confirm/`)
      settled.add(file.id)
      say(status, interpolate(gettext('“%(name)s” is uploaded and checked.'), { name: file.name }, true))
    } catch (error) {
      settled.add(file.id)
      const message = (error.body && error.body.fields && error.body.fields.file && error.body.fields.file.join(' ')) || error.message
      if (uppy.getFile(file.id)) uppy.setFileState(file.id, { error: message })
      say(status, interpolate(gettext('“%(name)s” was not accepted: %(reason)s'), { name: file.name, reason: message }, true), {
        failed: true,
      })
    } finally {
      confirming.delete(file.id)
    }
  }

  uppy.on('upload-success', (file) => {
    confirmations.push(confirm(file))
  })
  uppy.on('upload-error', (file, error) => {
    // Storage refused it (an expired signature, a dropped connection): it is not evidence; the
    // list below the uploader shows it with Retry and Remove.
    if (file) {
      const text = gettext('“%(name)s” did not finish uploading (%(reason)s). Retry it, or remove it.')
      say(status, interpolate(text, { name: file.name, reason: error.message }, true), { failed: true })
    }
  })
  // Retry of an upload that did not finish, in the list below: this uploader still holds the
  // file, so it sends it again (its earlier slot is given back first). Otherwise the button's
  // form removes the item and the page asks for the file again.
  document.addEventListener('click', (event) => {
    const button = event.target.closest('[data-retry-item]')
    const file = button && uppy.getFiles().find((f) => itemOf(f) === button.dataset.retryItem)
    if (!file) return
    event.preventDefault()
    say(status, interpolate(gettext('Sending “%(name)s” again…'), { name: file.name }, true))
    uppy.retryUpload(file.id).then(afterUpload, afterUpload)
  })
  uppy.on('restriction-failed', (file, error) => {
    say(status, error.message, { failed: true })
  })
  uppy.on('file-removed', (file) => {
    // Removed before the upload finished: give its slot back.
    const itemId = itemOf(file)
    if (itemId && !settled.has(file.id)) api('DELETE', `items/${itemId}/`).catch(() => {})
  })
  // After an upload (Uppy's 'complete'), or the retry of one file (which has no 'complete').
  const afterUpload = async () => {
    const waiting = confirmations
    confirmations = []
    await Promise.allSettled(waiting)
    await refreshRegions(['progress', element.dataset.items])
    // What the server accepted or rejected is now in the list below the uploader (a rejected
    // file with its reason), so the uploader is emptied for the next files.
    for (const file of uppy.getFiles()) {
      if (settled.has(file.id)) uppy.removeFile(file.id)
    }
    const left = Math.max(0, maxFiles())
    const dashboard = uppy.getPlugin('Dashboard')
    if (left === 0) {
      // Uppy reads a limit of 0 as "no limit". The step takes no more files: the uploader goes,
      // as on a page loaded now (removing a file reloads the page, with the uploader back).
      // Keyboard focus inside it moves to the step's files.
      const hadFocus = element.contains(document.activeElement)
      if (dashboard) dashboard.setOptions({ disabled: true })
      element.hidden = true
      // the step's files now say so on the page; screen readers hear it here
      say(status, gettext('This step has all the files it takes. Remove one to add another.'), {
        spokenOnly: true,
      })
      const items = document.getElementById(element.dataset.items)
      if (hadFocus && items) {
        items.tabIndex = -1
        items.focus()
      }
    } else {
      if (dashboard) dashboard.setOptions({ disabled: false })
      uppy.setOptions({ restrictions: { maxNumberOfFiles: left + uppy.getFiles().length } })
    }
  }
  uppy.on('complete', afterUpload)
}

async function mountUploaders () {
  const elements = document.querySelectorAll('[data-uploader]')
  if (!elements.length || !config) return
  let bundle
  try {
    bundle = await import(config.dataset.uppySrc)
  } catch (error) {
    for (const element of elements) {
      say(document.getElementById(element.dataset.status), gettext('The uploader could not be loaded. Reload the page to try again.'), {
        failed: true,
      })
    }
    return
  }
  const locale = await uppyLocale()
  for (const element of elements) mountUploader(element, bundle, locale)
}

// --- Written answers: word count and autosave ------------------------------------------------

function countWords (text) {
  const words = text.match(/\S+/g)
  return words ? words.length : 0
}

function setupAnswer (textarea) {
  const counter = document.getElementById(textarea.dataset.counter)
  const status = document.getElementById(textarea.dataset.saveStatus)
  const min = Number(textarea.dataset.wordMin) || 0
  const max = Number(textarea.dataset.wordMax) || 0
  const url = textarea.dataset.autosave.startsWith(API)
    ? textarea.dataset.autosave.slice(API.length)
    : textarea.dataset.autosave
  let countTimer = null
  let saveTimer = null
  let saving = false
  let dirty = false
  let retryDelay = 2000

  const show = (text, state = '') => {
    if (!status) return
    status.textContent = text
    status.className = `save-status ${state}`.trim()
  }

  const updateCount = () => {
    if (!counter) return
    const words = countWords(textarea.value)
    counter.textContent = max
      ? interpolate(ngettext('%(counter)s / %(max)s word', '%(counter)s / %(max)s words', words), { counter: words, max }, true)
      : interpolate(ngettext('%(counter)s word', '%(counter)s words', words), { counter: words }, true)
    counter.classList.toggle('over', Boolean(max) && words > max)
    counter.classList.toggle('under', Boolean(min) && words > 0 && words < min)
  }

  const save = async () => {
    if (saving) {
      saveTimer = setTimeout(save, 500)
      return
    }
    saving = true
    const text = textarea.value
    show(gettext('Saving…'))
    try {
      await api('PUT', url, { text })
      if (textarea.value === text) dirty = false
      retryDelay = 2000
      show(dirty ? gettext('Not saved yet') : gettext('Saved'), dirty ? '' : 'saved')
    } catch (error) {
      const retryable = !(error instanceof ApiError) || error.status >= 500 || error.status === 429
      if (retryable) {
        show(gettext('Not saved — retrying'), 'failed')
        clearTimeout(saveTimer)
        saveTimer = setTimeout(save, retryDelay)
        retryDelay = Math.min(retryDelay * 2, 30000)
      } else {
        show(interpolate(gettext('Not saved: %(reason)s'), { reason: error.message }, true), 'failed')
      }
    } finally {
      saving = false
    }
  }

  textarea.addEventListener('input', () => {
    dirty = true
    show(gettext('Not saved yet'))
    clearTimeout(countTimer)
    countTimer = setTimeout(updateCount, 300)
    clearTimeout(saveTimer)
    saveTimer = setTimeout(save, 1500)
  })
  if (textarea.form) {
    textarea.form.addEventListener('submit', () => {
      dirty = false
      clearTimeout(saveTimer)
    })
  }
  window.addEventListener('beforeunload', (event) => {
    if (dirty) {
      event.preventDefault()
      event.returnValue = ''
    }
  })
}

// --- Start -------------------------------------------------------------------------------------

for (const textarea of document.querySelectorAll('textarea[data-autosave]')) setupAnswer(textarea)

// Submitting while a file is still on its way would leave it out: say so, and wait.
const submitForm = document.getElementById('submit-form')
if (submitForm) {
  submitForm.addEventListener('submit', (event) => {
    const names = uploaders.flatMap((uploader) => uploader.busy())
    if (!names.length) return
    event.preventDefault()
    const status = document.getElementById('submit-status')
    const list = names.map((name) => `“${name}”`).join(', ')
    if (!status) return
    status.className = 'field-error'
    status.textContent = interpolate(
      ngettext('Wait until %(files)s has finished uploading, then submit.', 'Wait until %(files)s have finished uploading, then submit.', names.length),
      { files: list },
      true,
    )
  })
}

// Submitting with gaps: bring the list of what is missing into view and focus.
const errors = document.getElementById('submit-errors')
if (errors) errors.focus()

mountUploaders()
