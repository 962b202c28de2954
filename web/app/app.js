// app.js - the officers' app (phone or tablet; installable web app).
//
//   pair     once: the code from the van's console (typed, or its QR code
//            scanned), a name for the device, then the officer signs in;
//            the server answers a device token bound to this device, this
//            officer and one deployment (kept in localStorage)
//   alerts   cards pushed live (SSE, resumed with the last event id after a
//            dropped connection): both images side by side, likeness,
//            category, where and when, the operator's note; acknowledge;
//            the outcome with a note
//   check    a photo from the camera or a file, a reason; the answer on the
//            same screen
// Revoked, signed out or the deployment ended: everything is wiped and the
// app shows nothing but that.
import {
  Api, ApiError, EventStream, h, clear, fmtTime, categoryName, OUTCOME_NAMES, beep, unlockAudio,
  fmtLikeness, announce,
} from '/common/api.js';

const KEY = 'openlfr.device';
const main = document.getElementById('main');
const $ = (id) => document.getElementById(id);

const S = {
  dev: null,            // {token, user, deployment, name}
  api: null,
  stream: null,
  alerts: new Map(),    // id -> alert
  fresh: new Set(),
  images: new Map(),    // path -> object URL (memory only)
  acked: new Set(),    // alerts this device acknowledged
  tab: 'alerts',
  deployment: null,
  wake: null,
  locked: '',
};

function save() {
  if (S.dev) localStorage.setItem(KEY, JSON.stringify({ token: S.dev.token, user: S.dev.user, name: S.dev.name, lastId: S.stream ? S.stream.lastId : 0 }));
}

function wipe() {
  S.dev = null; // first: closing the stream below must not save it again
  localStorage.removeItem(KEY);
  if (S.stream) S.stream.close();
  S.stream = null;
  for (const u of S.images.values()) URL.revokeObjectURL(u);
  S.images.clear();
  S.alerts.clear();
  S.acked.clear();
  S.dev = null;
  S.api = null;
  releaseWake();
}

function errText(e) { return e instanceof ApiError ? e.message : String(e && e.message ? e.message : e); }

function setConn(state) {
  const c = $('conn');
  const map = {
    live: ['Connected', 'pill-ok'], connecting: ['Connecting…', 'pill-warn'],
    reconnecting: ['Reconnecting…', 'pill-warn'], offline: ['No connection', 'pill-off'],
    closed: ['Not connected', 'pill-off'], unpaired: ['Not paired', 'pill-off'],
  };
  const [t, cls] = map[state] || [state, 'pill-warn'];
  c.textContent = t;
  c.className = 'pill ' + cls;
  if (S.dev) save();
}

// ---------------------------------------------------------------------------
// Locked out (revoked, signed out, deployment ended)
function lockOut(why) {
  wipe();
  S.locked = why;
  setConn('closed');
  render();
}

// ---------------------------------------------------------------------------
// Pairing
function renderPair() {
  setConn('unpaired');   // the pill says why nothing arrives: no van paired yet
  const err = h('p.error', { role: 'alert', id: 'pair-error' });
  const code = h('input.code', { name: 'code', id: 'code', required: true, autocomplete: 'one-time-code', autocapitalize: 'characters', spellcheck: 'false', inputmode: 'text' });
  const form = h('form', { 'aria-describedby': 'pair-error' },
    h('h2', {}, '1. Pair this device'),
    h('p', {}, 'Ask the van\'s operator for a pairing code. Scan its QR code or type the code.'),
    scanButton(code, err),
    h('label', {}, 'Pairing code', code),
    h('label', {}, 'Name for this device', h('span.hint', {}, 'e.g. "PC 123 phone"'), h('input', { name: 'device_name', required: true, value: localStorage.getItem('openlfr.device_name') || '' })),
    h('h2', {}, '2. Sign in'),
    h('label', {}, 'Your login', h('input', { name: 'login', required: true, autocomplete: 'username', autocapitalize: 'none' })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', required: true, autocomplete: 'current-password' })),
    h('button.btn', { type: 'submit' }, 'Pair and sign in'), err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    unlockAudio();
    err.textContent = '';
    const fd = new FormData(form);
    try {
      const r = await new Api().post('/api/devices/pair', {
        code: String(fd.get('code')).trim(), device_name: fd.get('device_name'), login: fd.get('login'), password: fd.get('password'),
      });
      localStorage.setItem('openlfr.device_name', fd.get('device_name'));
      S.dev = { token: r.token, user: r.user, name: fd.get('device_name') };
      S.locked = '';
      save();
      await start();
    } catch (e) { err.textContent = errText(e); }
  });
  const hash = new URLSearchParams(location.hash.slice(1));
  if (hash.get('code')) code.value = hash.get('code');
  main.append(h('h1', {}, 'Officer\'s app'), form);
}

// The QR code on the console carries {"v":1,"url":...,"ca":...,"code":...}.
// Scanned with the device camera: the browser's BarcodeDetector where it
// has one for QR codes (Chrome on Android, Safari), otherwise jsQR, vendored
// from npm (pinned in tools/models.lock) and served by the van itself at
// /api/vendor/jsQR.js; typing the code always works.
async function qrDecoder() {
  try {
    if ('BarcodeDetector' in window) {
      const formats = window.BarcodeDetector.getSupportedFormats ? await window.BarcodeDetector.getSupportedFormats() : ['qr_code'];
      if (formats.includes('qr_code')) {
        const det = new window.BarcodeDetector({ formats: ['qr_code'] });
        return { name: 'BarcodeDetector', decode: async (video) => { const r = await det.detect(video); return r.length ? r[0].rawValue : null; } };
      }
    }
  } catch { /* fall back to jsQR */ }
  if (!window.jsQR) {
    await new Promise((resolve, reject) => {
      const sc = document.createElement('script');
      sc.src = '/api/vendor/jsQR.js';
      sc.onload = resolve;
      sc.onerror = () => reject(new Error('the QR decoder could not be loaded from the van'));
      document.head.append(sc);
    });
  }
  const canvas = document.createElement('canvas');
  const g = canvas.getContext('2d', { willReadFrequently: true });
  return {
    name: 'jsQR',
    decode: async (video) => {
      const w = video.videoWidth, hh = video.videoHeight;
      if (!w || !hh) return null;
      const scale = Math.min(1, 800 / Math.max(w, hh));
      canvas.width = Math.round(w * scale); canvas.height = Math.round(hh * scale);
      g.drawImage(video, 0, 0, canvas.width, canvas.height);
      const img = g.getImageData(0, 0, canvas.width, canvas.height);
      const r = window.jsQR(img.data, img.width, img.height, { inversionAttempts: 'dontInvert' });
      return r ? r.data : null;
    },
  };
}

function scanButton(codeInput, err) {
  if (!navigator.mediaDevices || !navigator.mediaDevices.getUserMedia) {
    return h('p', {}, 'This browser cannot use the camera here: type the code.');
  }
  const box = h('div');
  const status = h('p', { role: 'status', id: 'scan-status' });
  const btn = h('button.btn.btn-line', {
    type: 'button', id: 'scan', onclick: async () => {
      let stream;
      err.textContent = '';
      btn.disabled = true;
      try {
        const dec = await qrDecoder();
        stream = await navigator.mediaDevices.getUserMedia({ video: { facingMode: 'environment' }, audio: false });
        const video = h('video', { id: 'qr-video', playsinline: true, muted: true, 'aria-label': 'Camera view for the QR code' });
        video.srcObject = stream;
        const stop = h('button.btn.btn-line', { type: 'button', onclick: () => video.remove() }, 'Stop scanning');
        clear(box).append(video, stop);
        await video.play();
        status.textContent = 'Point the camera at the QR code on the van\'s screen.';
        for (let i = 0; i < 600 && video.isConnected; i++) {
          const v = await dec.decode(video);
          if (v) {
            let code = v;
            try {
              const o = JSON.parse(v);
              code = o.code || v;
              if (o.url && !o.url.startsWith(location.origin)) err.textContent = 'This code is for ' + o.url + ', not this server.';
            } catch { /* a plain code */ }
            codeInput.value = code;
            status.textContent = 'Code read from the QR code. Now enter your details.';
            announce($('live'), 'Pairing code read');
            break;
          }
          await new Promise((r) => setTimeout(r, 200));
        }
      } catch (e) { err.textContent = 'Cannot scan: ' + errText(e) + '. Type the code.'; }
      if (stream) for (const t of stream.getTracks()) t.stop();
      clear(box);
      btn.disabled = false;
    },
  }, 'Scan the QR code');
  return h('div', {}, btn, box, status);
}

// ---------------------------------------------------------------------------
async function start() {
  S.api = new Api(S.dev.token, { onUnauthenticated: (e) => lockOut('This device has been signed out by the van (' + e.message + '). Ask the operator for a new pairing code.') });
  try {
    const who = await S.api.get('/api/session');
    S.dev.user = who;
    S.deployment = await S.api.get('/api/deployments/' + who.deployment);
  } catch (e) {
    if (e.status === 401) return; // lockOut already shown
    if (e.status === 0) { render(); setConn('offline'); setTimeout(start, 3000); return; } // the van is out of reach: retry
    lockOut(errText(e));
    return;
  }
  if (S.deployment.state === 'ended' || S.deployment.state === 'purged') { lockOut('Deployment "' + S.deployment.name + '" has ended.'); return; }
  const saved = JSON.parse(localStorage.getItem(KEY) || '{}');
  S.stream = new EventStream(S.dev.token, {
    types: ['alert.dispatched', 'alert.ack', 'alert.outcome', 'deployment.state', 'check.done', 'device.revoked'],
    onEvent, onState: setConn, lastId: saved.lastId || 0,
  });
  // what was dispatched before (or while the app was closed)
  await loadAlerts();
  S.stream.connect();
  keepAwake();
  render();
}

async function loadAlerts() {
  try {
    const { alerts } = await S.api.get('/api/deployments/' + S.deployment.id + '/alerts', { limit: 50 });
    for (const a of alerts) S.alerts.set(a.id, Object.assign({}, S.alerts.get(a.id), a));
  } catch (e) { /* shown by the connection state */ }
}

function onEvent(type, d) {
  if (type === 'device.revoked') { lockOut('This device was revoked by the van. It shows nothing more. Ask the operator to pair it again if needed.'); return; }
  if (type === 'session.ended') { lockOut('Your session has ended. Ask the operator for a new pairing code.'); return; }
  if (type === 'deployment.state') {
    if (d.state === 'ended' || d.state === 'purged') lockOut('The deployment has ended. This device is signed out.');
    return;
  }
  if (type === 'gap') { loadAlerts().then(render); return; }
  if (type.startsWith('alert.')) {
    const a = d.alert && typeof d.alert === 'object' ? d.alert : d;
    if (!a || !a.id) return;
    const isNew = type === 'alert.dispatched' && !S.alerts.has(a.id);
    S.alerts.set(a.id, Object.assign({}, S.alerts.get(a.id), a));
    if (isNew) {
      S.fresh.add(a.id);
      cue(a);
    }
    // only this alert's card is redrawn (a finger on another card keeps it)
    const card = document.getElementById('alert-' + a.id);
    if (S.tab === 'alerts' && card && !isNew) { card.replaceWith(alertCard(S.alerts.get(a.id))); renderTabs(); }
    else if (S.tab === 'alerts') renderAlerts(); else renderTabs();
  }
  save();
}

function cue(a) {
  beep();
  try { if (navigator.vibrate) navigator.vibrate([300, 120, 300, 120, 600]); } catch { /* no vibration */ }
  announce($('live'), 'New alert: ' + (a.display_name || a.subject_ref) + ' near ' + a.camera);
  document.title = '(!) Alert - openlfr';
}

// Screen Wake Lock: the screen stays on while the app is open during a
// deployment (released when the app is hidden; taken again on return).
async function keepAwake() {
  try {
    if (!('wakeLock' in navigator) || document.visibilityState !== 'visible' || S.wake) return;
    S.wake = await navigator.wakeLock.request('screen');
    S.wake.addEventListener('release', () => { S.wake = null; });
  } catch { S.wake = null; }
}
function releaseWake() { if (S.wake) { S.wake.release().catch(() => {}); S.wake = null; } }
document.addEventListener('visibilitychange', () => { if (S.dev && S.stream) keepAwake(); });

// ---------------------------------------------------------------------------
function render() {
  clear(main);
  document.querySelector('.tabs')?.remove();
  if (S.locked) {
    main.append(h('section.locked', { role: 'alert' }, h('h1', {}, 'Signed out'), h('p', {}, S.locked)),
      h('button.btn', { type: 'button', onclick: () => { S.locked = ''; render(); } }, 'Pair this device again'));
    return;
  }
  if (!S.dev) { renderPair(); return; }
  if (!S.deployment) { main.append(h('p', {}, 'Connecting to the van…')); return; }
  main.append(h('p', { id: 'dep-line' }, h('b', {}, S.deployment.name), ' · ' + S.deployment.location + ' · ' + S.dev.user.login));
  main.append(h('div', { id: 'view' }));
  renderTabs();
  if (S.tab === 'alerts') renderAlerts(); else renderCheck();
}

function renderTabs() {
  document.querySelector('.tabs')?.remove();
  if (!S.dev || S.locked) return;
  const pending = [...S.alerts.values()].filter((a) => !a.outcome).length;
  const tab = (id, text, extra) => h('button', {
    type: 'button', role: 'tab', id: 'tab-' + id, 'aria-selected': S.tab === id ? 'true' : 'false', 'aria-controls': 'view',
    onclick: () => { S.tab = id; render(); },
  }, text, extra || null);
  document.body.append(h('nav.tabs', { role: 'tablist', 'aria-label': 'Screens' },
    tab('alerts', 'Alerts', pending ? h('span.count', { 'aria-label': pending + ' open' }, String(pending)) : null),
    tab('check', 'Photo check')));
}

async function imageInto(img, path) {
  try {
    let u = S.images.get(path);
    if (!u) { u = await S.api.image(path); S.images.set(path, u); }
    img.src = u;
  } catch (e) { img.alt += ' (not available)'; }
}

// Alerts -------------------------------------------------------------------------
function renderAlerts() {
  renderTabs();
  const view = $('view');
  if (!view) return;
  clear(view).setAttribute('role', 'tabpanel');
  view.setAttribute('aria-labelledby', 'tab-alerts');
  const list = [...S.alerts.values()].sort((a, b) => b.id - a.id);
  view.append(h('h1', {}, 'Alerts'));
  if (!list.length) view.append(h('p', {}, 'No alerts sent to you yet. When the van sends one, this phone sounds and vibrates.'));
  for (const a of list) view.append(alertCard(a));
}

// Said beside a likeness that came from the mean of an entry's photos.
function photosNote(n) {
  return n > 1 ? h('span', {}, ' (mean of ' + n + ' watchlist photos)') : null;
}

function alertCard(a) {
  const fresh = S.fresh.has(a.id);
  const name = a.display_name || a.subject_ref;
  const live = h('img', { alt: 'Live camera face' });
  const wl = h('img', { alt: 'Watchlist image of ' + name });
  imageInto(live, a.face_image_url || '/api/alerts/' + a.id + '/image');
  if (a.watchlist_image_url || a.image) imageInto(wl, a.watchlist_image_url || '/api/watchlist/images/' + a.image);
  const card = h('article.card', { class: fresh ? 'new' : null, 'aria-labelledby': 'a' + a.id + '-h', id: 'alert-' + a.id },
    h('h2', { id: 'a' + a.id + '-h' }, (fresh ? 'NEW: ' : '') + name),
    h('div.pair', {},
      h('figure', {}, live, h('figcaption', {}, 'Camera')),
      h('figure', {}, wl, h('figcaption', {}, 'Watchlist'))),
    h('p', {}, 'Likeness ', h('span.likeness', {}, fmtLikeness(a.likeness)), photosNote(a.entry_photos)),
    h('dl.facts', {},
      a.category ? [h('dt', {}, 'Category'), h('dd', {}, categoryName(a.category, a.category_other))] : null,
      a.reason ? [h('dt', {}, 'Reason for inclusion'), h('dd', { class: 'reason' }, a.reason)] : null,
      h('dt', {}, 'Reference'), h('dd', {}, a.subject_ref),
      h('dt', {}, 'Where'), h('dd', {}, a.camera),
      h('dt', {}, 'When'), h('dd', {}, fmtTime(a.at)),
      h('dt', {}, 'Operator'), h('dd', {}, (a.decided_by || '—') + (a.note ? ': "' + a.note + '"' : ''))),
    h('p', {}, h('b', {}, 'Compare the faces yourself before you act.')));
  if (fresh) card.addEventListener('click', () => { S.fresh.delete(a.id); card.classList.remove('new'); }, { once: true });
  if (!a.outcome && S.acked.has(a.id)) {
    card.append(h('button.btn', { type: 'button', disabled: true }, 'Acknowledged'));
  } else if (!a.outcome) {
    card.append(h('button.btn', {
      type: 'button', id: 'ack-' + a.id, onclick: async (ev) => {
        const btn = ev.currentTarget;
        btn.disabled = true;
        S.acked.add(a.id); // before the answer: the alert.ack event may come first
        try {
          const r = await S.api.post('/api/alerts/' + a.id + '/ack');
          S.alerts.set(r.id, Object.assign({}, S.alerts.get(r.id), r));
          S.fresh.delete(a.id);
          announce($('live'), 'Acknowledged');
          btn.textContent = 'Acknowledged';
        } catch (e) { S.acked.delete(a.id); btn.disabled = false; card.append(h('p.error', { role: 'alert' }, errText(e))); }
      },
    }, 'Acknowledge'));
  }
  if (!a.outcome) {
    let chosen = '';
    const note = h('textarea', { name: 'note', id: 'note-' + a.id });
    const buttons = Object.entries(OUTCOME_NAMES).map(([k, t]) => h('button.btn.btn-line', {
      type: 'button', 'aria-pressed': 'false', dataset: { outcome: k },
      onclick: (ev) => {
        chosen = k;
        for (const b of card.querySelectorAll('[data-outcome]')) b.setAttribute('aria-pressed', b === ev.currentTarget ? 'true' : 'false');
        rec.disabled = false;
      },
    }, t));
    const msg = h('p', { role: 'status' });
    const rec = h('button.btn.btn-ok', {
      type: 'button', disabled: true, onclick: async () => {
        rec.disabled = true;
        try {
          const body = { outcome: chosen };
          if (note.value.trim()) body.note = note.value.trim();
          const r = await S.api.post('/api/alerts/' + a.id + '/outcome', body);
          S.alerts.set(r.id, Object.assign({}, S.alerts.get(r.id), r));
          S.fresh.delete(a.id);
          renderAlerts();
        } catch (e) { rec.disabled = false; msg.className = 'error'; msg.textContent = errText(e); }
      },
    }, 'Record outcome');
    card.append(h('fieldset', { style: 'border:0;padding:0;margin:0' }, h('legend', { style: 'font-weight:800' }, 'Outcome'),
      h('div.outcomes', {}, buttons), h('label', { for: 'note-' + a.id }, 'Note (what happened)'), note, rec, msg));
  } else {
    card.append(h('p.status', {}, 'Outcome: ' + (OUTCOME_NAMES[a.outcome] || a.outcome) + ' — ' + (a.outcome_by || '') + ', ' + fmtTime(a.outcome_at, false) + (a.outcome_note ? ': ' + a.outcome_note : '')));
  }
  return card;
}

// Photo check --------------------------------------------------------------------
const REASONS = [
  ['matches_description', 'Matches a description'],
  ['intelligence', 'Intelligence'],
  ['behaviour', 'Behaviour'],
  ['other', 'Other (say why)'],
];

async function asJpegOrPng(file) {
  if (file.type === 'image/jpeg' || file.type === 'image/png') return file;
  // e.g. HEIC or WebP from some phones: re-encode as JPEG in memory
  const bmp = await createImageBitmap(file);
  const c = document.createElement('canvas');
  c.width = bmp.width; c.height = bmp.height;
  c.getContext('2d').drawImage(bmp, 0, 0);
  return await new Promise((r) => c.toBlob(r, 'image/jpeg', 0.92));
}

function renderCheck() {
  renderTabs();
  const view = $('view');
  clear(view).setAttribute('role', 'tabpanel');
  view.setAttribute('aria-labelledby', 'tab-check');
  const answer = h('section', { id: 'check-answer', 'aria-live': 'polite' });
  const preview = h('img.preview', { alt: 'The photo to check', hidden: true });
  const photo = h('input', { type: 'file', name: 'photo', id: 'photo', accept: 'image/*', capture: 'environment', required: true });
  const pick = h('input', { type: 'file', name: 'pick', id: 'pick', accept: 'image/*' });
  let file = null;
  const took = (input) => {
    file = input.files[0] || null;
    if (preview.src) URL.revokeObjectURL(preview.src);
    if (file) { preview.src = URL.createObjectURL(file); preview.hidden = false; photo.required = false; }
  };
  photo.addEventListener('change', () => took(photo));
  pick.addEventListener('change', () => took(pick));
  const reason = h('select', { name: 'reason', id: 'reason', required: true }, h('option', { value: '' }, 'Choose…'), REASONS.map(([v, t]) => h('option', { value: v }, t)));
  const other = h('textarea', { name: 'reason_other', id: 'reason-other' });
  const otherLabel = h('label', { hidden: true }, 'Why (required for other)', other);
  reason.addEventListener('change', () => { otherLabel.hidden = reason.value !== 'other'; other.required = reason.value === 'other'; });
  const err = h('p.error', { role: 'alert' });
  const send = h('button.btn', { type: 'submit' }, 'Check this photo');
  const form = h('form', {},
    h('h1', {}, 'Photo check'),
    h('p.notice', {}, 'Only this deployment\'s watchlist is searched. A person must compare the images before acting.'),
    h('label', {}, 'Take a photo', photo),
    h('label', {}, 'Or choose a saved photo', pick),
    preview,
    h('label', {}, 'Reason for the check', reason), otherLabel,
    send, err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    err.textContent = '';
    clear(answer);
    if (!file) { err.textContent = 'Take or choose a photo first.'; return; }
    if (!reason.value) { err.textContent = 'Choose the reason for the check.'; return; }
    if (reason.value === 'other' && !other.value.trim()) { err.textContent = 'Say why (reason: other).'; return; }
    send.disabled = true;
    send.textContent = 'Checking…';
    try {
      const img = await asJpegOrPng(file);
      const query = { reason: reason.value };
      if (reason.value === 'other') query.reason_other = other.value.trim();
      const r = await S.api.call('POST', '/api/deployments/' + S.deployment.id + '/checks', undefined,
        { query, raw: img, contentType: img.type || 'image/jpeg' });
      showAnswer(answer, r);
      answer.scrollIntoView({ block: 'start' });
    } catch (e) { err.textContent = errText(e); }
    send.disabled = false;
    send.textContent = 'Check this photo';
  });
  view.append(form, answer);
}

function showAnswer(box, r) {
  clear(box);
  box.append(h('h2', {}, 'Answer'));
  if (!r.face_found) box.append(h('p.nomatch', { id: 'check-result' }, 'No face found in the photo. Try again, closer and facing the camera.'));
  else if (!r.candidates.length) box.append(h('p.nomatch', { id: 'check-result' }, 'No match on this deployment\'s watchlist.'));
  else {
    box.append(h('p.notice', { id: 'check-result' }, 'Possible match: ' + r.candidates.length + ' candidate' + (r.candidates.length > 1 ? 's' : '') + '. Compare the images before acting.'));
    for (const c of r.candidates) {
      const e = c.entry || {};
      const img = h('img', { alt: 'Watchlist image of ' + (e.display_name || e.subject_ref) });
      if (c.image) imageInto(img, '/api/watchlist/images/' + c.image);
      box.append(h('article.candidate', {},
        h('div.pair', {}, h('figure', {}, img, h('figcaption', {}, 'Watchlist')),
          h('div', {}, h('p', {}, h('b', {}, e.display_name || '—')), h('p', {}, 'Likeness ', h('span.likeness', {}, fmtLikeness(c.likeness)), photosNote(c.entry_photos)))),
        h('dl.facts', {},
          h('dt', {}, 'Reference'), h('dd', {}, e.subject_ref || '—'),
          h('dt', {}, 'Category'), h('dd', {}, categoryName(e.category, e.category_other)),
          h('dt', {}, 'Why listed'), h('dd', {}, e.reason || '—'))));
    }
  }
  box.append(h('p', {}, 'Only this deployment\'s watchlist was searched (check #' + r.check + '). A person must compare the images before acting.'));
}

// ---------------------------------------------------------------------------
if ('serviceWorker' in navigator) {
  navigator.serviceWorker.register('/app/sw.js', { scope: '/app/' }).catch(() => { /* not installable here */ });
}

(async function boot() {
  const saved = JSON.parse(localStorage.getItem(KEY) || 'null');
  if (saved && saved.token) {
    S.dev = saved;
    render();
    await start();
  } else {
    render();
  }
})();
