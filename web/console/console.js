// console.js - the van console: operator, authorising officer, auditor, admin.
//
// One page, screens by URL hash:
//   #/login                  sign in
//   #/                       deployments: list, create
//   #/d/ID                   deployment: state, window, threshold and its
//                            meaning, cameras (live state, fps, drops),
//                            counters, officers' devices
//   #/d/ID/setup             cameras, watchlist (upload, import), authorise,
//                            start, end, amendments (two-step: the
//                            proposed ones listed with their authorise)
//   #/d/ID/cameras           live view of each camera (a small frame a
//                            second while the tab is visible, faces boxed;
//                            operators and admins)
//   #/d/ID/alerts            the alert queue, live: review side by side,
//                            confirm / reject (C / R), dispatch (D)
//   #/d/ID/checks            officers' photo checks (who, why, result)
//   #/d/ID/devices           pair (code and QR), list, revoke
//   #/audit                  verify the chain; signed checkpoints (make one,
//                            download the file, its compact form as a QR
//                            code made on the van), the van's public key
//                            and the verify command; browse and filter records
//   #/eval                   the accuracy and fairness evaluation (auditors,
//                            admins): whether the van has the data, start a
//                            quick or full run (a child process of the
//                            server), its progress, cancel, the runs kept
//                            and their reports (HTML page, JSON)
// The deployment overview offers the auditor and the admin its transparency
// report (HTML page, JSON, PDF), fetched with the bearer token into a Blob.
// Biometric images are fetched with the bearer token into memory (object
// URLs), shown, and released when the screen changes.
import {
  Api, ApiError, EventStream, h, clear, fmtTime, fmtAgo, categoryName, CATEGORY_NAMES,
  OUTCOME_NAMES, beep, unlockAudio, fmtLikeness, announce,
} from '/common/api.js';

const TOKEN_KEY = 'openlfr.console.token';
const $ = (id) => document.getElementById(id);
const main = $('main');

const S = {
  api: null,
  user: null,          // {login, roles, ...}
  stream: null,
  alerts: new Map(),   // id -> alert (every deployment seen this session)
  fresh: new Set(),    // alert ids not yet looked at
  selected: 0,         // alert under review
  entries: new Map(),  // deployment id -> Map(entry id -> entry)
  camState: new Map(), // "dep/camera name" -> {state, reason}
  images: [],          // object URLs of the current screen
  timers: [],
  route: null,
};

const has = (role) => S.user && S.user.roles.includes(role);
const isOperator = () => has('operator');
const isAuthoriser = () => has('authorising_officer');
const isAuditor = () => has('auditor');
const isAdmin = () => has('admin');

// ---------------------------------------------------------------------------
function flash(text, ok = false) {
  const f = $('flash');
  f.textContent = text;
  f.className = 'flash' + (ok ? ' ok' : '');
  f.hidden = !text;
  if (text && ok) setTimeout(() => { if (f.textContent === text) f.hidden = true; }, 4000);
}

function errText(e) {
  return e instanceof ApiError ? e.message : String(e && e.message ? e.message : e);
}

async function act(fn, okText) {
  flash('');
  try {
    const r = await fn();
    if (okText) flash(typeof okText === 'function' ? okText(r) : okText, true);
    return r;
  } catch (e) {
    flash(errText(e));
    return null;
  }
}

function releaseScreen() {
  for (const u of S.images) URL.revokeObjectURL(u);
  S.images = [];
  for (const t of S.timers) clearInterval(t);
  S.timers = [];
}

async function imageInto(img, path) {
  try {
    const u = await S.api.image(path);
    S.images.push(u);
    img.src = u;
  } catch (e) {
    img.alt = img.alt + ' (not available: ' + errText(e) + ')';
  }
}

function setConn(state) {
  const c = $('conn');
  const map = {
    live: ['live', 'pill-ok'], connecting: ['connecting…', 'pill-warn'],
    reconnecting: ['reconnecting…', 'pill-warn'], offline: ['offline', 'pill-bad'],
    closed: ['not connected', 'pill-off'],
  };
  const [t, cls] = map[state] || [state, 'pill-info'];
  c.textContent = 'Events: ' + t;
  c.className = 'pill ' + cls;
}

// ---------------------------------------------------------------------------
// Sign in / out
function signedOut(msg) {
  sessionStorage.removeItem(TOKEN_KEY);
  if (S.stream) S.stream.close();
  S.stream = null;
  S.user = null;
  S.api = null;
  S.alerts.clear();
  location.hash = '#/login';
  if (msg) flash(msg);
}

function renderLogin() {
  const err = h('p.error', { id: 'login-error', role: 'alert' });
  const form = h('form.stack', { 'aria-describedby': 'login-error' },
    h('label', {}, 'Login name', h('input', { name: 'login', autocomplete: 'username', required: true, autofocus: true })),
    h('label', {}, 'Password', h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true })),
    h('button.btn.btn-big', { type: 'submit' }, 'Sign in'),
    err);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    unlockAudio();
    err.textContent = '';
    const fd = new FormData(form);
    try {
      const r = await new Api().post('/api/session', { login: fd.get('login'), password: fd.get('password') });
      sessionStorage.setItem(TOKEN_KEY, r.token);
      await startSession(r.token);
      location.hash = '#/';
    } catch (e) {
      err.textContent = errText(e);
    }
  });
  main.append(h('section.panel.signin', { 'aria-labelledby': 'signin-h' },
    h('h1', { id: 'signin-h' }, 'Sign in to the van console'),
    h('p.muted', {}, 'Operators, authorising officers, auditors and administrators sign in here. Officers on the street use the officers\' app on their device.'),
    form));
}

async function startSession(token) {
  S.api = new Api(token, { onUnauthenticated: () => signedOut('Your session has ended: sign in again.') });
  S.user = await S.api.get('/api/session');
  $('who').textContent = S.user.login + ' (' + S.user.roles.map((r) => r.replace(/_/g, ' ')).join(', ') + ')';
  $('signout').hidden = false;
  S.stream = new EventStream(token, {
    types: ['alert.new', 'alert.update', 'alert.decided', 'alert.dispatched', 'alert.ack',
      'alert.outcome', 'camera.state', 'deployment.state', 'check.done', 'device.revoked'],
    onEvent,
    onState: setConn,
  });
  S.stream.connect();
}

$('signout').addEventListener('click', async () => {
  try { await S.api.del('/api/session'); } catch { /* already gone */ }
  $('signout').hidden = true;
  $('who').textContent = '';
  signedOut('Signed out.');
});

// ---------------------------------------------------------------------------
// Live events
function onEvent(type, d) {
  const r = S.route || {};
  if (type === 'alert.new' || type === 'alert.update') {
    const id = d.alert;
    const prev = S.alerts.get(id) || {};
    S.alerts.set(id, Object.assign({}, prev, {
      id, deployment: d.deployment, entry: d.entry, image: d.image, subject_ref: d.subject_ref,
      display_name: d.name, camera: d.camera, likeness: d.likeness, score: d.cosine,
      source: d.source, template_n: d.template_n, entry_photos: d.entry_photos,
      at: prev.at || (d.at ? new Date(d.at * 1000).toISOString() : null), has_face_image: true,
      _v: (prev._v || 0) + 1,
    }));
    if (type === 'alert.new') {
      S.fresh.add(id);
      // the operator's eyes go to the new alert unless one is being decided
      const cur = S.alerts.get(S.selected);
      if (!cur || cur.deployment !== d.deployment || cur.decision) S.selected = id;
      newAlertCue(S.alerts.get(id));
    }
    if (r.view === 'alerts' && r.dep === d.deployment) renderQueue(type === 'alert.update' ? id : 0);
  } else if (type.startsWith('alert.')) {
    const a = d.alert && typeof d.alert === 'object' ? d.alert : d;
    if (a && a.id) {
      const prev = S.alerts.get(a.id) || {};
      S.alerts.set(a.id, Object.assign({}, prev, a, { display_name: prev.display_name }));
      if (type === 'alert.outcome') announce($('live'), 'Outcome for alert ' + a.id + ': ' + (OUTCOME_NAMES[a.outcome] || a.outcome));
      if (r.view === 'alerts' && r.dep === a.deployment) renderQueue(0);
    }
  } else if (type === 'camera.state') {
    // deployment id is not in the data: keyed by camera name on the current one
    S.camState.set(d.camera, { state: d.state, reason: d.reason, at: Date.now() });
    if (r.view === 'overview') refreshCameras();
  } else if (type === 'deployment.state') {
    if (r.dep === d.id && (r.view === 'overview' || r.view === 'setup' || r.view === 'cameras')) route();
    else if (r.dep === d.id && d.state) { // other screens keep what is on them; the header says the new state
      const pill = document.querySelector('.dep-head .state');
      if (pill) pill.replaceWith(statePill(d.state));
    }
    if (!r.dep) route();
  } else if (type === 'check.done') {
    if (r.view === 'checks') route();
    announce($('live'), 'Photo check by ' + d.officer + ': ' + d.result);
  } else if (type === 'device.revoked') {
    if (r.view === 'devices' || r.view === 'overview') route();
  }
  updateNavBadge();
}

// A new alert: a beep, the tab's title, the screen reader; and, on any
// screen but that deployment's alert queue, a link to it floating over the
// page for 12 s.  On the queue itself the new card is marked instead: a
// floating link there would cover the review (the likeness, the faces)
// while the operator decides another alert.
function newAlertCue(a) {
  beep();
  document.title = '(!) New alert - openlfr van console';
  announce($('live'), 'New alert on camera ' + a.camera);
  const r = S.route || {};
  let n = document.querySelector('.newalert');
  if (r.view === 'alerts' && r.dep === a.deployment) {
    if (n) n.remove();
    return;
  }
  if (!n) {
    n = h('a.newalert', { href: '#/d/' + a.deployment + '/alerts' });
    document.body.append(n);
  }
  n.textContent = 'New alert: ' + (a.display_name || a.subject_ref || 'watchlist match') + ' on ' + a.camera + ' — review';
  clearTimeout(S.cueTimer);   // the latest alert's link stays its full 12 s
  S.cueTimer = setTimeout(() => { n.remove(); }, 12000);
}

function updateNavBadge() {
  const b = document.getElementById('nav-badge');
  if (!b) return;
  // this deployment's alerts awaiting a decision (the badge sits on its
  // link; another deployment's new alert shows the new-alert link instead)
  const dep = (S.route || {}).dep;
  const n = [...S.alerts.values()].filter((a) => !a.decision && a.deployment === dep).length;
  b.textContent = n ? String(n) : '';
  b.hidden = !n;
}

// ---------------------------------------------------------------------------
// Navigation
function renderNav() {
  const nav = clear($('nav'));
  if (!S.user) return;
  const r = S.route || {};
  const link = (href, text, current, extra) =>
    h('a', { href, 'aria-current': current ? 'page' : null }, text, extra || null);
  nav.append(link('#/', 'Deployments', r.view === 'list'));
  if (r.dep) nav.append(link('#/d/' + r.dep, 'Deployment ' + r.dep, !!r.dep && r.view !== 'list' && r.view !== 'audit' && r.view !== 'eval',
    h('span.badge', { id: 'nav-badge', hidden: true, 'aria-label': 'alerts waiting' })));
  if (isAuditor() || isAdmin()) nav.append(link('#/audit', 'Audit', r.view === 'audit'));
  if (isAuditor() || isAdmin()) nav.append(link('#/eval', 'Evaluation', r.view === 'eval'));
  updateNavBadge();
}

function parseHash() {
  const p = location.hash.replace(/^#\/?/, '').split('/').filter(Boolean);
  if (p[0] === 'login') return { view: 'login' };
  if (p[0] === 'audit') return { view: 'audit' };
  if (p[0] === 'eval') return { view: 'eval' };
  if (p[0] === 'd' && /^\d+$/.test(p[1] || '')) return { view: p[2] || 'overview', dep: parseInt(p[1], 10) };
  return { view: 'list' };
}

// One screen drawn at a time: a route asked for while one is being drawn
// (an event arriving during a click's own redraw) runs after it.
let routing = false, routeAgain = false;
async function route() {
  if (routing) { routeAgain = true; return; }
  routing = true;
  try { await drawRoute(); } finally {
    routing = false;
    if (routeAgain) { routeAgain = false; route(); }
  }
}

// A redraw of the screen on show (an event: another user authorised the
// deployment, a camera changed state) must not lose what the user was
// typing.  Before it, the fields they changed (and the chosen files) are
// read, keyed by their form (the names of its fields) and their name;
// after it, they are put back into the same fields of the new screen, with
// the focus, and the open <details> too.  A field the new screen lacks is
// dropped (the state moved on); a form the user sent resets itself first.
const FIELD_SKIP = new Set(['hidden', 'submit', 'button', 'reset']);
function formKey(f) {
  return Array.from(f.elements, (e) => e.name).filter(Boolean).sort().join(',');
}
function fieldKey(e) { return e.type === 'radio' ? e.name + '=' + e.value : e.name; }
function fieldChanged(e) {
  if (e.type === 'checkbox' || e.type === 'radio') return e.checked !== e.defaultChecked;
  if (e.type === 'file') return e.files && e.files.length > 0;
  if (e.tagName === 'SELECT') return Array.from(e.options).some((o) => o.selected !== o.defaultSelected);
  return e.value !== e.defaultValue;
}
function typedFields() {
  const saved = [];
  let focus = null;
  for (const f of main.querySelectorAll('form')) {
    const fk = formKey(f);
    for (const e of f.elements) {
      if (!e.name || FIELD_SKIP.has(e.type)) continue;
      const k = fk + '|' + fieldKey(e);
      if (e === document.activeElement) focus = { k, start: e.selectionStart, end: e.selectionEnd };
      if (fieldChanged(e)) saved.push({ k, value: e.value, checked: e.checked, files: e.type === 'file' ? e.files : null });
    }
  }
  const open = Array.from(main.querySelectorAll('details[open] > summary'), (x) => x.textContent);
  return { saved, focus, open };
}
function restoreTyped(t) {
  for (const x of main.querySelectorAll('details > summary'))
    if (t.open.includes(x.textContent)) x.parentElement.open = true;
  const byKey = new Map();
  for (const f of main.querySelectorAll('form')) {
    const fk = formKey(f);
    for (const e of f.elements) if (e.name && !FIELD_SKIP.has(e.type)) byKey.set(fk + '|' + fieldKey(e), e);
  }
  for (const s of t.saved) {
    const e = byKey.get(s.k);
    if (!e || e.disabled) continue;
    if (e.type === 'checkbox' || e.type === 'radio') e.checked = s.checked;
    else if (e.type === 'file') { try { e.files = s.files; } catch (_) { /* not settable: the user picks again */ } }
    else e.value = s.value;
    e.dispatchEvent(new Event('input', { bubbles: true }));
    e.dispatchEvent(new Event('change', { bubbles: true }));
  }
  const e = t.focus && byKey.get(t.focus.k);
  if (e) {
    e.focus();
    try { if (t.focus.start != null) e.setSelectionRange(t.focus.start, t.focus.end); } catch (_) { /* not a text field */ }
  }
}

let drawnHash = null;
async function drawRoute() {
  releaseScreen();
  const r = parseHash();
  if (!S.user && r.view !== 'login') { location.hash = '#/login'; return; }
  const typed = drawnHash === location.hash ? typedFields() : null;
  drawnHash = location.hash;
  S.route = r;
  const cue = document.querySelector('.newalert');   // its queue is now on show
  if (cue && r.view === 'alerts' && cue.getAttribute('href') === '#/d/' + r.dep + '/alerts') cue.remove();
  renderNav();
  clear(main);
  // busy until the screen is whole and what was typed is back (assistive
  // technology, and the tests, wait for it)
  main.setAttribute('aria-busy', 'true');
  document.title = 'openlfr van console';
  try {
    switch (r.view) {
      case 'login': renderLogin(); break;
      case 'list': await renderList(); break;
      case 'audit': await renderAudit(); break;
      case 'eval': await renderEval(); break;
      default: await renderDeployment(r);
    }
  } catch (e) {
    main.append(h('p.error', { role: 'alert' }, errText(e)));
  }
  if (typed && drawnHash === location.hash) restoreTyped(typed);
  main.removeAttribute('aria-busy');
}

window.addEventListener('hashchange', route);

// ---------------------------------------------------------------------------
// Deployments
const STATE_PILL = { draft: 'pill-info', authorised: 'pill-warn', live: 'pill-ok', ended: 'pill-off', purged: 'pill-off' };
const statePill = (s) => h('span.pill.state', { class: STATE_PILL[s] || 'pill-info' }, s);

function localInput(d) {
  const p = (n) => String(n).padStart(2, '0');
  return d.getFullYear() + '-' + p(d.getMonth() + 1) + '-' + p(d.getDate()) + 'T' + p(d.getHours()) + ':' + p(d.getMinutes());
}

async function renderList() {
  main.append(h('h1', {}, 'Deployments'));
  const { deployments } = await S.api.get('/api/deployments');
  const rows = deployments.slice().reverse().map((d) => h('tr', {},
    h('td', {}, h('a', { href: '#/d/' + d.id }, d.name)),
    h('td', {}, statePill(d.state)),
    h('td', {}, d.location),
    h('td', {}, fmtTime(d.planned_start) + ' – ' + fmtTime(d.planned_end)),
    h('td', {}, String(d.entries)),
    h('td', {}, String(d.alerts))));
  main.append(h('div.panel', {}, deployments.length
    ? h('table', {}, h('caption.sr-only', {}, 'Deployments'),
      h('thead', {}, h('tr', {}, ['Name', 'State', 'Location', 'Planned window', 'Watchlist', 'Alerts'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, rows))
    : h('p.muted', {}, 'No deployments yet.')));
  if (isOperator() || isAuthoriser()) {
    // the van says which model set new deployments get and its own default
    // threshold and sane range (fused704v3: 0.625 means what 0.70 means
    // for mfn192); without an answer the form names no number it made up
    const health = await S.api.get('/api/health').catch(() => ({}));
    main.append(createForm(health.new_deployment || null));
  }
}

function createForm(nd) {
  const now = new Date();
  const later = new Date(now.getTime() + 8 * 3600e3);
  const f2 = (x) => Number(x).toFixed(2);
  const range = nd ? f2(nd.sane_min) + '–' + f2(nd.sane_max) : 'the sane range';
  const meaning = h('p.muted.form-note', { id: 'thr-help' }, nd
    ? 'Model set ' + nd.model_set + ': default ' + fmtThreshold(nd.threshold) + ' (one false match in a million comparisons), sane range ' + range + '. Lower finds more listed people and raises more false alerts.'
    : 'Lower finds more listed people and raises more false alerts.');
  const form = h('form.cols', {},
    h('label', {}, 'Name', h('input', { name: 'name', required: true, placeholder: 'Town centre, Saturday' })),
    h('label', {}, 'Location', h('input', { name: 'location', required: true })),
    h('label', {}, 'Purpose', h('span.hint', {}, 'who is sought and why'), h('textarea', { name: 'purpose', required: true })),
    h('label', {}, 'Legal basis', h('textarea', { name: 'legal_basis', required: true })),
    h('label', {}, 'Planned start (local time)', h('input', { name: 'start', type: 'datetime-local', required: true, value: localInput(now) })),
    h('label', {}, 'Planned end (local time)', h('input', { name: 'end', type: 'datetime-local', required: true, value: localInput(later) })),
    h('label', {}, 'Planned cameras', h('span.hint', {}, 'optional, free text'), h('input', { name: 'cameras' })),
    h('label', {}, 'Alert threshold', h('input', { name: 'threshold', type: 'number', step: '0.001', min: '0.01', max: '0.99', value: nd ? Number(nd.threshold).toFixed(3) : null, required: true, 'aria-describedby': 'thr-help' })),
    h('label.check', {}, h('input', { type: 'checkbox', name: 'unusual_threshold_ok' }), 'A threshold outside ' + range + ' is meant'),
    meaning,   // the threshold's meaning, under its row, the width of the form
    h('div.row', {}, h('button.btn', { type: 'submit' }, 'Create deployment')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const body = {
      name: fd.get('name'), location: fd.get('location'), purpose: fd.get('purpose'), legal_basis: fd.get('legal_basis'),
      start: Math.floor(new Date(fd.get('start')).getTime() / 1000), end: Math.floor(new Date(fd.get('end')).getTime() / 1000),
      threshold: parseFloat(fd.get('threshold')),
    };
    if (fd.get('cameras')) body.cameras = fd.get('cameras');
    if (fd.get('unusual_threshold_ok')) body.unusual_threshold_ok = true;
    const d = await act(() => S.api.post('/api/deployments', body), (d) => 'Deployment ' + d.id + ' created (draft).');
    if (d) location.hash = '#/d/' + d.id + '/setup';
  });
  return h('section.panel', { 'aria-labelledby': 'create-h' }, h('h2', { id: 'create-h' }, 'Create a deployment'), form);
}

// A threshold as set: three decimals, two when the third is 0 (0.625,
// 0.70), so fused704v3's 0.625 is not shown as 0.63.
function fmtThreshold(x) {
  const t = Number(x).toFixed(3);
  return t.endsWith('0') ? t.slice(0, -1) : t;
}

function thresholdMeaning(d) {
  const m = d.threshold_meaning || {};
  const pct = (x) => (x * 100).toFixed(x < 0.001 ? 5 : 2) + '%';
  return h('div', {},
    h('p', {}, h('b', {}, 'Threshold ' + fmtThreshold(d.threshold)), ' (a likeness of about ' + fmtLikeness(m.likeness) + ').'),
    h('ul', {},
      h('li', {}, 'Expected false alerts: about ', h('b', {}, (m.false_alerts_per_10k_faces || 0).toFixed(2)), ' per 10,000 faces that pass the cameras, for this watchlist (each face is compared with ' + m.templates + ' template' + (m.templates === 1 ? '' : 's') + ', one per person listed' + (m.comparisons_counted > m.templates ? '; people listed with several photos are matched by the mean of their photos, which resembles strangers more often, so these count as ' + m.comparisons_counted + ' comparisons' : '') + '; chance of a false alert ' + pct(m.fpir || 0) + ' per face).'),
      h('li', {}, 'Expected share of listed people found when they pass a camera: about ', h('b', {}, Math.round((m.tar || 0) * 100) + '%'), '.'),
      m.extrapolated ? h('li', {}, 'These figures are extrapolated beyond the measured range: treat them as rough.') : null,
      worstGroup(m, pct)));
}

// The worst-served demographic group at this threshold, when the server
// measured groups (threshold_meaning.worst_group / worst_name ...): the
// false alerts a crowd of that group alone would raise.
function worstGroup(m, pct) {
  const w = m.worst_group && typeof m.worst_group === 'object' ? m.worst_group
    : m.worst_name ? { name: m.worst_name, fmr: m.worst_fmr, fpir: m.worst_fpir, false_alerts_per_10k_faces: m.worst_false_alerts_per_10k_faces !== undefined ? m.worst_false_alerts_per_10k_faces : m.worst_false_alerts_per_10k, extrapolated: m.worst_extrapolated }
    : null;
  if (!w || !w.name) return null;
  const fa = w.false_alerts_per_10k_faces;
  return h('li', { class: 'worst-group' }, 'Worst-served group measured: ', h('b', {}, w.name), ': about ',
    h('b', {}, fa !== undefined && fa !== null ? Number(fa).toFixed(2) : '?'), ' false alerts per 10,000 of its faces' +
    (w.fmr !== undefined && w.fmr !== null ? ' (false-match rate ' + pct(w.fmr) + ' per comparison)' : '') +
    (w.extrapolated ? '; beyond what its measured pairs can show, so rough' : '') + '.');
}

async function renderDeployment(r) {
  const d = await S.api.get('/api/deployments/' + r.dep);
  const tab = (v, text) => h('a', { href: '#/d/' + d.id + (v === 'overview' ? '' : '/' + v), 'aria-current': r.view === v ? 'page' : null }, text);
  main.append(h('div.dep-head', {}, h('h1', {}, d.name), statePill(d.state), h('span.muted', {}, d.location)));
  const tabs = [tab('overview', 'Overview'), tab('setup', 'Set-up')];
  if (isOperator() || isAdmin()) tabs.push(tab('cameras', 'Live view'));
  if (!isAuditor() || isOperator() || isAuthoriser()) tabs.push(tab('alerts', 'Alerts'));
  if (isOperator() || isAuthoriser() || isAuditor()) tabs.push(tab('checks', 'Photo checks'));
  if (isOperator() || isAdmin()) tabs.push(tab('devices', 'Devices'));
  main.append(h('nav.tabs', { 'aria-label': 'Deployment' }, tabs));
  const body = h('div.dep-body');
  main.append(body);
  switch (r.view) {
    case 'setup': return renderSetup(d, body);
    case 'alerts': return renderAlerts(d, body);
    case 'checks': return renderChecks(d, body);
    case 'devices': return renderDevices(d, body);
    case 'cameras': return renderLiveView(d, body);
    default: return renderOverview(d, body);
  }
}

// Overview --------------------------------------------------------------------
let camBox = null, camDep = null;
async function renderOverview(d, body) {
  body.append(h('div.grid', {},
    h('section.panel', { 'aria-labelledby': 'ov-h' }, h('h2', { id: 'ov-h' }, 'Deployment'),
      h('dl.facts', {},
        h('dt', {}, 'State'), h('dd', {}, statePill(d.state)),
        h('dt', {}, 'Planned window'), h('dd', {}, fmtTime(d.planned_start) + ' – ' + fmtTime(d.planned_end)),
        h('dt', {}, 'Started'), h('dd', {}, fmtTime(d.started_at)),
        h('dt', {}, 'Ended'), h('dd', {}, d.ended_at ? fmtTime(d.ended_at) + ' by ' + d.ended_by : '—'),
        h('dt', {}, 'Location'), h('dd', {}, d.location),
        h('dt', {}, 'Purpose'), h('dd', {}, d.purpose),
        h('dt', {}, 'Legal basis'), h('dd', {}, d.legal_basis),
        h('dt', {}, 'Created by'), h('dd', {}, d.created_by + ', ' + fmtTime(d.created_at)),
        h('dt', {}, 'Authorised by'), h('dd', {}, d.authorised_by ? d.authorised_by + ', ' + fmtTime(d.authorised_at) : 'not yet'))),
    h('section.panel', { 'aria-labelledby': 'thr-h' }, h('h2', { id: 'thr-h' }, 'What the threshold means'), thresholdMeaning(d),
      h('h3', {}, 'Counters'),
      h('div.counters', {},
        h('div.counter', {}, h('b', {}, String(d.entries)), 'watchlist entries'),
        h('div.counter', {}, h('b', {}, String(d.images)), 'watchlist images'),
        h('div.counter', {}, h('b', {}, String(d.alerts)), 'alerts'),
        h('div.counter', {}, h('b', {}, String(d.photo_checks)), 'photo checks')))));
  if (isAuditor() || isAdmin()) body.append(reportPanel(d));
  camBox = h('div');
  camDep = d;
  body.append(h('section.panel', { 'aria-labelledby': 'cam-h' }, h('h2', { id: 'cam-h' }, 'Cameras'), camBox));
  await refreshCameras();
  if (d.state === 'live') S.timers.push(setInterval(() => { if (document.visibilityState === 'visible') refreshCameras(); }, 2000));
  if (isOperator() || isAdmin()) {
    const devBox = h('div');
    body.append(h('section.panel', { 'aria-labelledby': 'dev-h' }, h('h2', { id: 'dev-h' }, 'Officers\' devices'), devBox));
    try {
      const { devices } = await S.api.get('/api/devices', { deployment: d.id });
      devBox.append(deviceTable(devices, false));
    } catch (e) { devBox.append(h('p.error', {}, errText(e))); }
  }
}

// A file the server answers (report, checkpoint) fetched with the token
// into a Blob; saved under `name`, or opened in the tab `win` (opened by
// the click itself, so no pop-up blocker stands in the way).
async function fetchBlob(url) {
  const res = await fetch(url, { headers: S.api.headers(), cache: 'no-store' });
  if (!res.ok) {
    let msg = 'HTTP ' + res.status;
    try { const j = await res.json(); if (j.error && j.error.message) msg = j.error.message; } catch { /* not JSON */ }
    throw new ApiError(res.status, 'HTTP_' + res.status, msg);
  }
  return res.blob();
}

function saveBlob(blob, name) {
  const u = URL.createObjectURL(blob);
  const a = h('a', { href: u, download: name, hidden: true });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(u), 60000);
}

function reportPanel(d) {
  const url = (fmt) => '/api/deployments/' + d.id + '/report?format=' + fmt;
  const base = 'transparency-report-deployment-' + d.id;
  const open = async () => {
    const win = window.open('', '_blank');
    try {
      const u = URL.createObjectURL(await fetchBlob(url('html')));
      setTimeout(() => URL.revokeObjectURL(u), 60000);
      if (win) win.location.href = u; else location.href = u;
    } catch (e) { if (win) win.close(); flash('The report could not be made: ' + errText(e)); }
  };
  const download = (fmt) => act(async () => saveBlob(await fetchBlob(url(fmt)), base + '.' + fmt),
    fmt.toUpperCase() + ' report downloaded.');
  return h('section.panel.report-panel', { 'aria-labelledby': 'rep-h' }, h('h2', { id: 'rep-h' }, 'Transparency report'),
    h('p.muted', {}, 'What happened in this deployment, computed from the store and the audit log only, with the signed checkpoints verified. No face images and no names of people not on the watchlist.'),
    h('div.row', {},
      h('button.btn', { type: 'button', id: 'report-html', onclick: open }, 'Open the HTML report'),
      h('button.btn.btn-quiet', { type: 'button', id: 'report-json', onclick: () => download('json') }, 'Download JSON'),
      h('button.btn.btn-quiet', { type: 'button', id: 'report-pdf', onclick: () => download('pdf') }, 'Download PDF')));
}

// Live per-camera figures from the pipeline (camera.stats): state, analysed
// frames per second, frames dropped (the camera delivered a newer one
// before the last was analysed), faces, alerts, frame-to-alert latency.
async function cameraStats(depId) {
  try {
    const r = await S.api.get('/api/deployments/' + depId + '/camera-stats');
    const out = {};
    for (const c of r.cameras) out[c.camera_id || c.name] = c;
    camSettings = r.settings || null;
    return out;
  } catch { return null; }
}
let camSettings = null;   // the server's camera settings (camera.stats)

// One sentence of the settings the cameras run with, and of the full
// detections that waited because a camera fell behind (the installer's
// trade: `openlfr serve --help`).
function camSettingsText(stats) {
  const t = camSettings;
  if (!t) return null;
  const n = (x, one, many) => x + ' ' + (x === 1 ? one : many);
  let txt = 'Settings: faces searched for in full every ' + n(t.detect_every, 'frame', 'frames') +
    (t.detect_every > 1 ? ', near the tracks between' : '') +
    '; up to ' + n(t.camera_queue, 'frame waits', 'frames wait') + ' per camera' +
    (t.defer_behind > 0 && t.detect_every > 1 ? ' (a camera with ' + t.defer_behind + ' frames waiting puts off its next full detection, by ' + n(t.detect_every, 'frame', 'frames') + ' at most)' : '') +
    '; ' + n(t.embed_per_frame, 'face', 'faces') + ' embedded per frame at most; ' +
    n(t.analysis_workers, 'analysis worker', 'analysis workers') +
    '; a listed person seen again by the same camera within ' + fmtNum(t.alert_cooldown_s) + ' s is not alerted again.';
  let deferred = 0;
  for (const k in stats || {}) deferred += stats[k].detect_deferred || 0;
  if (deferred) txt += ' Full detections deferred so far (cameras behind): ' + deferred + '.';
  return txt;
}

const fmtNum = (x, digits = 0) => (x === null || x === undefined ? '—' : Number(x).toFixed(digits));

function camStateCell(d, c, s) {
  const st = S.camState.get(c.name);
  let state = d.state !== 'live' ? 'not running (deployment ' + d.state + ')'
    : s ? s.state : st ? st.state : 'starting';
  if (s && !s.running && d.state === 'live') state = 'stopped: ' + state;
  const cls = state === 'live' ? 'pill-ok' : /fail|error|stop|not|stalled|ended/.test(state) ? 'pill-bad' : 'pill-warn';
  const reason = (s && s.reason) || (st && st.reason);
  return h('td', {}, h('span.pill', { class: cls }, state), reason ? h('div.small.muted', {}, reason) : null);
}

async function refreshCameras() {
  if (!camBox || !camDep || !camBox.isConnected) return;
  const d = camDep;
  const list = (d.camera_list || []).filter((c) => !c.removed_at);
  const stats = d.state === 'live' ? await cameraStats(d.id) : null;
  if (!camBox.isConnected) return;
  clear(camBox);
  if (!list.length) { camBox.append(h('p.muted', {}, 'No cameras yet (Set-up adds them).')); return; }
  const rows = list.map((c) => {
    const s = stats && stats[c.id];
    return h('tr', { dataset: { camera: c.id } },
      h('th', { scope: 'row' }, c.name, s && s.rtsp_transport ? h('span.small.muted', {}, ' RTSP over ' + s.rtsp_transport.toUpperCase()) : null),
      camStateCell(d, c, s),
      h('td.fps', {}, s && s.running ? fmtNum(s.analysed_fps, 1) : '—'),
      h('td', {}, s ? String(s.frames_analysed) + ' / ' + String(s.frames) : '—'),
      h('td.drops', {}, s ? String(s.frames_dropped) : '—'),
      h('td', {}, s ? String(s.faces) : '—'),
      h('td', {}, s ? String(s.alerts) : '—'),
      h('td', {}, s && s.latency_p50_ms !== null ? fmtNum(s.latency_p50_ms) + ' ms' : '—'));
  });
  camBox.append(h('table', { id: 'camera-stats' }, h('caption.sr-only', {}, 'Cameras'),
    h('thead', {}, h('tr', {}, ['Camera', 'State', 'Analysed fps', 'Analysed / frames', 'Dropped', 'Faces', 'Alerts', 'Frame to alert (median)'].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, rows)),
  d.state === 'live' ? h('p.muted.small', {}, 'Updated every 2 s. Dropped: frames the camera delivered while its queue of frames waiting for analysis was full (the oldest waiting is dropped). ',
    isOperator() || isAdmin() ? h('a', { href: '#/d/' + d.id + '/cameras' }, 'Live view of the cameras') : null) : null,
  d.state === 'live' && camSettingsText(stats) ? h('p.muted.small', { id: 'camera-settings' }, camSettingsText(stats)) : null);
}

// Live view --------------------------------------------------------------------
// One tile per running camera: its newest analysed frame (small, faces
// boxed, matched faces red), fetched once a second while this tab is
// visible.  The frames exist only in the server's memory and in this
// page's (object URLs, released as each is replaced); never stored.
const LIVE_VIEW_MS = 1000;
async function renderLiveView(d, body) {
  body.append(h('p.muted', {}, 'Each camera\'s newest analysed frame, refreshed once a second while this tab is visible. Green: a face the camera sees; red: a face that matched the watchlist. Frames are kept in memory only and never stored.'));
  const list = (d.camera_list || []).filter((c) => !c.removed_at);
  if (d.state !== 'live') { body.append(h('p', {}, 'The cameras run while the deployment is live (now: ' + d.state + ').')); return; }
  if (!list.length) { body.append(h('p.muted', {}, 'No cameras.')); return; }
  const grid = h('div.live-grid');
  body.append(grid);
  const tiles = list.map((c) => {
    const img = h('img.live-img', { alt: 'Live view of camera ' + c.name + ', faces boxed', id: 'live-' + c.id });
    const cap = h('p.small.live-cap', { 'aria-live': 'off' }, 'Waiting for a frame…');
    grid.append(h('section.panel.live-tile', { 'aria-labelledby': 'lv-h-' + c.id },
      h('h2', { id: 'lv-h-' + c.id }, c.name), img, cap));
    return { c, img, cap, url: null, busy: false };
  });
  const tick = async () => {
    if (document.visibilityState !== 'visible' || !grid.isConnected) return;
    const stats = await cameraStats(d.id);
    await Promise.all(tiles.map(async (t) => {
      if (t.busy) return;
      t.busy = true;
      const s = stats && stats[t.c.id];
      try {
        const u = await S.api.image('/api/cameras/' + t.c.id + '/preview');
        if (!grid.isConnected) { URL.revokeObjectURL(u); return; }
        const old = t.url;
        t.url = u;
        S.images.push(u);
        t.img.src = u;
        if (old) { URL.revokeObjectURL(old); S.images = S.images.filter((x) => x !== old); }
        t.cap.textContent = (s ? s.state + ' · ' + fmtNum(s.analysed_fps, 1) + ' fps analysed · ' + s.frames_dropped + ' dropped · ' : '') + 'frame of ' + new Date().toLocaleTimeString('en-GB');
      } catch (e) {
        t.cap.textContent = s && !s.running ? 'camera not running (' + s.state + (s.reason ? ': ' + s.reason : '') + ')'
          : (s ? s.state + ' · ' : '') + (e.status === 404 ? 'waiting for a frame…' : errText(e));
      } finally { t.busy = false; }
    }));
  };
  await tick();
  S.timers.push(setInterval(tick, LIVE_VIEW_MS));
}

// Set-up ------------------------------------------------------------------------
async function renderSetup(d, body) {
  const draft = d.state === 'draft';
  // cameras
  if (isOperator() || isAuthoriser()) {
    const camList = h('ul');
    for (const c of (d.camera_list || []).filter((c) => !c.removed_at))
      camList.append(h('li', {}, c.name + ' (' + (c.rtsp_transport === 'udp' ? 'RTSP over UDP, ' : '') + 'added by ' + c.added_by + ') ',
        isOperator() && d.state !== 'ended' ? h('button.btn.btn-quiet', { type: 'button', onclick: async () => { if (await act(() => S.api.del('/api/cameras/' + c.id), 'Camera removed.')) route(); } }, 'Remove ' + c.name) : null));
    const form = h('form.cols', {},
      h('label', {}, 'Camera name', h('input', { name: 'name', required: true, placeholder: 'North entrance' })),
      h('label', {}, 'Source', h('span.hint', {}, 'rtsp://…, a file, or /dev/video0; credentials are sealed'), h('input', { name: 'url', required: true })),
      h('label', {}, 'RTSP transport', h('span.hint', {}, 'rtsp:// cameras only: UDP for a camera or network that does not carry RTP over TCP'),
        h('select', { name: 'rtsp_transport' }, h('option', { value: 'tcp' }, 'TCP (default)'), h('option', { value: 'udp' }, 'UDP'))),
      h('div.row', {}, h('button.btn', { type: 'submit' }, 'Add camera')));
    form.addEventListener('submit', async (ev) => {
      ev.preventDefault();
      const fd = new FormData(form);
      if (await act(() => S.api.post('/api/deployments/' + d.id + '/cameras', { name: fd.get('name'), url: fd.get('url'), rtsp_transport: fd.get('rtsp_transport') }), 'Camera added.')) { form.reset(); route(); }
    });
    body.append(h('section.panel', { 'aria-labelledby': 'cams-h' }, h('h2', { id: 'cams-h' }, 'Cameras'),
      (d.camera_list || []).some((c) => !c.removed_at) ? camList : h('p.muted', {}, 'No cameras yet.'),
      isOperator() && d.state !== 'ended' && d.state !== 'purged' ? form : null));
  }

  // watchlist
  const { entries } = await S.api.get('/api/deployments/' + d.id + '/watchlist');
  S.entries.set(d.id, new Map(entries.map((e) => [e.id, e])));
  const wl = h('section.panel', { 'aria-labelledby': 'wl-h' }, h('h2', { id: 'wl-h' }, 'Watchlist (' + entries.length + ')'));
  if (draft && (isOperator() || isAuthoriser())) wl.append(uploadForm(d), importForm(d));
  else if (!draft) wl.append(h('p.muted', {}, 'The watchlist is fixed once authorised; an amendment (below) removes an entry.'));
  wl.append(entryTable(d, entries, draft), h('div', { id: 'photo-result', 'aria-live': 'polite' }));
  body.append(wl);

  // authorise / start / end / amend
  if (isAuthoriser() || isOperator()) body.append(lifecyclePanel(d, entries));
}

const CATEGORY_OPTIONS = () => Object.entries(CATEGORY_NAMES).map(([v, t]) => h('option', { value: v }, t));

function uploadForm(d) {
  const result = h('div', { id: 'upload-result', 'aria-live': 'polite' });
  const under = h('input', { type: 'checkbox', name: 'under_18' });
  const just = h('label', { hidden: true }, 'Why a child is on the list (required for under 18)', h('textarea', { name: 'under_18_justification' }));
  under.addEventListener('change', () => { just.hidden = !under.checked; });
  const cat = h('select', { name: 'category', required: true }, CATEGORY_OPTIONS());
  const other = h('label', { hidden: true }, 'Category: what', h('input', { name: 'category_other' }));
  cat.addEventListener('change', () => { other.hidden = cat.value !== 'other'; });
  const form = h('form.cols', { 'aria-labelledby': 'up-h' },
    h('label', {}, 'Photo', h('span.hint', {}, 'JPEG or PNG; one face, frontal, sharp'), h('input', { name: 'image', type: 'file', accept: 'image/jpeg,image/png', required: true })),
    h('label', {}, 'Subject reference', h('span.hint', {}, 'the force\'s record id'), h('input', { name: 'subject_ref', required: true })),
    h('label', {}, 'Name as shown to operators', h('input', { name: 'display_name', required: true })),
    h('label', {}, 'Category', cat), other,
    h('label', {}, 'Reason for inclusion', h('textarea', { name: 'reason', required: true })),
    h('label', {}, 'Image source', h('input', { name: 'image_source', required: true, placeholder: 'custody record' })),
    h('label', {}, 'Image date', h('span.hint', {}, 'YYYY-MM-DD, YYYY-MM or YYYY'), h('input', { name: 'image_date', required: true, pattern: '\\d{4}(-\\d{2}(-\\d{2})?)?' })),
    h('label.check', {}, under, 'The person is under 18'), just,
    h('div.row', {}, h('button.btn', { type: 'submit' }, 'Add to watchlist')));
  // accept: the officer's reason for accepting the photo's quality
  // warnings (asked only after the server listed them)
  const send = async (accept) => {
    clear(result);
    const fd = new FormData(form);
    const file = fd.get('image');
    const b64 = await fileBase64(file);
    const body = { image_base64: b64 };
    for (const k of ['subject_ref', 'display_name', 'category', 'reason', 'image_source', 'image_date'])
      body[k] = fd.get(k);
    if (body.category === 'other') body.category_other = fd.get('category_other');
    if (under.checked) { body.under_18 = true; body.under_18_justification = fd.get('under_18_justification'); }
    if (accept) body.accept_warnings = accept;
    try {
      const r = await S.api.post('/api/deployments/' + d.id + '/watchlist', body);
      const w = r.entry && r.entry.quality_warnings ? r.entry.quality_warnings : [];
      result.append(h('div.accepted', { role: 'status' }, h('b', {}, 'Added ' + body.display_name + ' (' + body.subject_ref + ').'), ' ', r.quality ? r.quality.why : '',
        w.length ? h('p', {}, w.length + ' quality warning' + (w.length > 1 ? 's' : '') + ' accepted: ' + accept) : null));
      form.reset();
      setTimeout(route, 1500);
    } catch (e) {
      result.append(rejection(file.name, e, send));
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(''); });
  // the authorising officer checks a list someone else built: the server
  // refuses authorisation to whoever added a person or a photo to it
  const authNote = isAuthoriser() && !isOperator()
    ? h('p.form-note', { id: 'auth-builds-note' }, 'You are an authorising officer: if you add a person or a photo here, another authorising officer must authorise this deployment.')
    : null;
  return h('div', {}, h('h3', { id: 'up-h' }, 'Add a person'), authNote, form, result);
}

const MEASURE_NAMES = {
  score: 'Detector score', eye_distance: 'Eye distance (px)', sharpness: 'Sharpness', yaw: 'Yaw (°)',
  pitch: 'Pitch (°)', roll: 'Roll (°)', at_edge: 'Face at the photo\'s edge', brightness: 'Brightness', uneven_light: 'Uneven light',
};

// A photo's quality warnings (watchlist.add's refusal, or an entry's
// accepted ones): each with its measured value and where the warning starts.
function warningList(ws) {
  return h('ul.warnings', {}, ws.map((w) => h('li', {}, w.text || (w.kind.replace(/_/g, ' ') + ' ' + w.value + ' (warning from ' + w.cutoff + ')'))));
}

function rejection(name, e, resend) {
  const q = e.body && e.body.quality;
  if (q && q.grade === 'accept_with_warnings' && resend) {
    // enrolled only if the officer accepts the warnings, with a reason
    const why = h('textarea', { id: 'accept-warnings', name: 'accept_warnings', required: true });
    const box = h('div.reject.warned', { role: 'alert' },
      h('h3', {}, 'Quality warnings: ' + name),
      h('p', {}, 'This photo can be enrolled, but matching with it is measurably less reliable:'),
      warningList(q.warnings || []),
      h('label', { for: 'accept-warnings' }, 'Your reason for accepting these warnings (recorded and audited)'), why,
      h('div.row', {}, h('button.btn', {
        type: 'button', onclick: () => { if (why.value.trim()) resend(why.value.trim()); else why.focus(); },
      }, 'Accept the warnings and add')));
    return box;
  }
  const box = h('div.reject', { role: 'alert' }, h('h3', {}, 'Rejected: ' + name));
  if (q) {
    box.append(h('p', {}, h('b', {}, 'Reason: ' + q.reject.toLowerCase().replace(/_/g, ' ')), ' — ' + q.why));
    const m = q.measured || {};   // only what was measured (nothing when no face was found)
    if (Object.keys(m).length) box.append(h('table.small', {}, h('caption', { class: 'sr-only' }, 'Measured values'),
      h('tbody', {}, Object.entries(m).map(([k, v]) => h('tr', {}, h('th', { scope: 'row' }, MEASURE_NAMES[k] || k), h('td', {}, typeof v === 'number' ? v.toFixed(2) : String(v)))))));
    if (q.warnings && q.warnings.length) box.append(h('p', {}, 'Also warned:'), warningList(q.warnings));
  } else {
    box.append(h('p', {}, errText(e)));
  }
  return box;
}

function fileBase64(file) {
  return new Promise((resolve, reject) => {
    const r = new FileReader();
    r.onload = () => resolve(String(r.result).replace(/^data:[^,]*,/, ''));
    r.onerror = () => reject(r.error);
    r.readAsDataURL(file);
  });
}

// CSV: quoted fields, doubled quotes, CRLF.
function parseCsv(text) {
  const rows = [];
  let row = [], f = '', q = false;
  text = text.replace(/^\uFEFF/, '');
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (q) {
      if (c === '"' && text[i + 1] === '"') { f += '"'; i++; } else if (c === '"') q = false; else f += c;
    } else if (c === '"') q = true;
    else if (c === ',') { row.push(f); f = ''; }
    else if (c === '\n' || c === '\r') {
      if (c === '\r' && text[i + 1] === '\n') i++;
      row.push(f); f = '';
      if (row.some((x) => x !== '')) rows.push(row);
      row = [];
    } else f += c;
  }
  row.push(f);
  if (row.some((x) => x !== '')) rows.push(row);
  return rows;
}

function importForm(d) {
  const report = h('div', { 'aria-live': 'polite' });
  const form = h('form.cols', {},
    h('label', {}, 'Manifest (CSV)', h('span.hint', {}, 'header: file,subject_ref,display_name,category,reason,image_source,image_date[,category_other,under_18,under_18_justification]'), h('input', { type: 'file', name: 'manifest', accept: '.csv,text/csv', required: true })),
    h('label', {}, 'Photos named in it', h('input', { type: 'file', name: 'photos', accept: 'image/jpeg,image/png', multiple: true, required: true })),
    h('div.row', {}, h('button.btn', { type: 'submit' }, 'Import')));
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clear(report);
    const manifest = form.manifest.files[0];
    const photos = new Map([...form.photos.files].map((f) => [f.name, f]));
    const csv = parseCsv(await manifest.text());
    const head = (csv.shift() || []).map((x) => x.trim());
    const rows = [], local = [];
    for (const [i, r] of csv.entries()) {
      const o = {};
      head.forEach((k, j) => { if (r[j] !== undefined && r[j] !== '') o[k] = r[j]; });
      const f = photos.get(o.file);
      if (!f) { local.push(h('tr', {}, h('td', {}, String(i + 2)), h('td', {}, o.subject_ref || ''), h('td.error', {}, 'not sent'), h('td', {}, 'photo "' + (o.file || '') + '" was not chosen'))); continue; }
      delete o.file;
      if (o.under_18 !== undefined) o.under_18 = /^(1|true|yes)$/i.test(o.under_18);
      o.image_base64 = await fileBase64(f);
      rows.push(o);
    }
    try {
      const r = rows.length ? await S.api.post('/api/deployments/' + d.id + '/watchlist/import', { rows }) : { added: 0, rejected: 0, rows: [] };
      report.append(h('p', { role: 'status' }, h('b', {}, r.added + ' added, ' + (r.rejected + local.length) + ' not added.')),
        h('table.small', {}, h('thead', {}, h('tr', {}, ['Row', 'Subject', 'Result', 'Why'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, r.rows.map((x) => h('tr', {}, h('td', {}, String(x.row + 2)), h('td', {}, x.subject_ref), h('td', { class: x.status === 'added' ? '' : 'error' }, x.status), h('td', {}, x.message))), local)));
    } catch (e) { report.append(h('p.error', { role: 'alert' }, errText(e))); }
  });
  return h('details', {}, h('summary', {}, 'Bulk import (manifest and photos)'), form, report);
}

function entryTable(d, entries, draft) {
  if (!entries.length) return h('p.muted', {}, 'Nobody on the watchlist yet.');
  return h('table', {}, h('caption.sr-only', {}, 'Watchlist entries'),
    h('thead', {}, h('tr', {}, ['#', 'Subject', 'Name', 'Category', 'Reason', 'Image', 'Quality', 'Under 18', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, entries.map((e) => h('tr', {},
      h('td', {}, String(e.id)), h('td', {}, e.subject_ref), h('td', {}, e.display_name),
      h('td', {}, categoryName(e.category, e.category_other)), h('td', {}, e.reason),
      h('td.small', {}, (e.images > 1 ? e.images + ' photos, matched by their mean; first: ' : '') + e.image_source + ', ' + e.image_date,
        e.images > 1 ? entryPhotos(e) : null),
      h('td.small', {}, entryQuality(e)),
      h('td', {}, e.under_18 ? 'Yes: ' + (e.under_18_justification || '') : 'No'),
      h('td', {}, draft && (isOperator() || isAuthoriser()) ? addPhotoControl(e) : null,
        draft && (isOperator() || isAuthoriser()) ? h('button.btn.btn-quiet', {
        type: 'button', 'aria-label': 'Remove ' + e.display_name,
        onclick: async () => {
          const reason = prompt('Why is ' + e.display_name + ' removed?');
          if (reason && await act(() => S.api.call('DELETE', '/api/watchlist/' + e.id, undefined, { query: { reason } }), 'Removed.')) route();
        },
      }, 'Remove') : null)))));
}

// Every photo of an entry of several (watchlist.photos), read when opened:
// each one's image, where it came from, when it was taken, who added it
// and any quality warnings accepted, so the authorising officer can judge
// each photo that goes into the mean, not only the first.
function entryPhotos(e) {
  const list = h('ol.photos', { 'aria-live': 'polite' });
  const box = h('details.photos', {}, h('summary', {}, 'Each photo', h('span.sr-only', {}, ' of ' + e.display_name)), list);
  let loaded = false;
  box.addEventListener('toggle', async () => {
    if (!box.open || loaded) return;
    loaded = true;
    try {
      const r = await S.api.get('/api/watchlist/' + e.id + '/photos');
      for (const [i, p] of r.photos.entries()) {
        const img = h('img', { alt: 'Photo ' + (i + 1) + ' of ' + e.display_name, width: 64, height: 64 });
        imageInto(img, '/api/watchlist/images/' + p.id);
        const warned = Array.isArray(p.quality_warnings) && p.quality_warnings.length;
        list.append(h('li', {}, img, h('span', {},
          h('b', {}, (p.image_source || 'source not recorded') + ', ' + (p.image_date || 'date not recorded')),
          h('br'), 'added by ' + (p.added_by || 'not recorded') + ', ' + fmtTime(p.added_at),
          warned ? [h('br'), 'warnings (' + p.quality_warnings.map((w) => w.kind).join(', ') + ') accepted by ' + (p.warnings_accepted_by || '?') + ': "' + (p.warnings_accepted || '') + '"'] : null)));
      }
    } catch (err) {
      loaded = false;
      list.append(h('li.error', { role: 'alert' }, errText(err)));
    }
  });
  return box;
}

// Another photo of a person already listed (watchlist.add_photo), with
// where it comes from and when it was taken: quality control as for a new
// entry (warnings accepted with a reason), and the server refuses a photo
// of someone else or the same photograph again.  The outcome is announced
// in the live region below the entry table.
function addPhotoControl(e) {
  const form = h('form.add-photo', { 'aria-label': 'Another photo of ' + e.display_name },
    h('label', {}, 'Photo', h('input', { name: 'image', type: 'file', accept: 'image/jpeg,image/png', required: true, 'aria-label': 'Another photo of ' + e.display_name })),
    h('label', {}, 'Image source', h('input', { name: 'image_source', required: true, placeholder: 'custody record' })),
    h('label', {}, 'Image date', h('input', { name: 'image_date', required: true, pattern: '\\d{4}(-\\d{2}(-\\d{2})?)?', placeholder: 'YYYY-MM-DD' })),
    h('button.btn', { type: 'submit' }, 'Add this photo'));
  const send = async (accept) => {
    const out = document.getElementById('photo-result');
    if (out) clear(out);
    const fd = new FormData(form);
    const file = fd.get('image');
    const body = { image_base64: await fileBase64(file), image_source: fd.get('image_source'), image_date: fd.get('image_date') };
    if (accept) body.accept_warnings = accept;
    try {
      const r = await S.api.post('/api/watchlist/' + e.id + '/photos', body);
      if (out) out.append(h('div.accepted', { role: 'status' }, h('b', {}, 'Added a photo of ' + e.display_name + ' (' + e.subject_ref + ').'),
        ' The entry now has ' + (r.entry ? r.entry.images : '?') + ' photos and is matched by their mean (cosine ' + Number(r.similarity).toFixed(2) + ' with the photos before it).'));
      form.reset();
      box.open = false;
      setTimeout(route, 1500);
    } catch (err) {
      if (out) out.append(rejection(file.name, err, send));
    }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(''); });
  const box = h('details.add-photo', {}, h('summary.btn.btn-quiet', {}, 'Add photo'), form);
  return box;
}

// An entry's quality warnings and who accepted them, why (absent before
// the enrolment warnings existed: then nothing is said).
function warnedSection(entries) {
  if (!entries.some((e) => Array.isArray(e.quality_warnings))) return null;
  const warned = entries.filter((e) => e.quality_warnings && e.quality_warnings.length);
  return h('div', {}, h('h3', {}, 'Entries enrolled with quality warnings (' + warned.length + ')'),
    warned.length ? h('ul', {}, warned.map((e) => h('li', {}, h('b', {}, e.display_name + ' (' + e.subject_ref + ')'), ': ',
      e.quality_warnings.map((w) => w.kind.replace(/_/g, ' ')).join(', '),
      ' — accepted by ' + (e.warnings_accepted_by || '?') + ': ' + (e.warnings_accepted || '—'))))
      : h('p.muted', {}, 'None: every photo passed quality control without warnings.'));
}

function entryQuality(e) {
  if (!Array.isArray(e.quality_warnings)) return '—';
  if (!e.quality_warnings.length) return 'no warnings';
  // several photos: say how many carry warnings (those shown are the first such photo's)
  const which = e.images > 1 && e.images_with_warnings ? h('p', {}, e.images_with_warnings + ' of ' + e.images + ' photos with warnings; the first:') : null;
  return h('div', {}, which, warningList(e.quality_warnings),
    h('p', {}, 'Accepted by ' + (e.warnings_accepted_by || '?') + ': ' + (e.warnings_accepted || '—')));
}

function lifecyclePanel(d, entries) {
  const box = h('section.panel', { 'aria-labelledby': 'life-h' }, h('h2', { id: 'life-h' }, 'Authorisation and running'));
  // what is authorised
  const byCat = {};
  for (const e of entries) byCat[e.category] = (byCat[e.category] || 0) + 1;
  const kids = entries.filter((e) => e.under_18);
  const what = h('div', {},
    h('h3', {}, d.state === 'draft' ? 'What would be authorised' : 'What was authorised'),
    h('table.small', {}, h('caption', {}, 'Watchlist composition by category'),
      h('tbody', {}, Object.keys(CATEGORY_NAMES).map((c) => h('tr', {}, h('th', { scope: 'row' }, CATEGORY_NAMES[c]), h('td', {}, String(byCat[c] || 0)))),
        h('tr', {}, h('th', { scope: 'row' }, 'Total'), h('td', {}, h('b', {}, String(entries.length)))))),
    h('h3', {}, 'Under-18 entries (' + kids.length + ')'),
    kids.length ? h('ul', {}, kids.map((e) => h('li', {}, h('b', {}, e.display_name + ' (' + e.subject_ref + ')'), ': ' + (e.under_18_justification || 'no justification')))) : h('p.muted', {}, 'None.'),
    warnedSection(entries),
    h('h3', {}, 'Threshold'), thresholdMeaning(d),
    h('p', {}, 'Purpose: ' + d.purpose), h('p', {}, 'Legal basis: ' + d.legal_basis),
    h('p', {}, 'Window: ' + fmtTime(d.planned_start) + ' – ' + fmtTime(d.planned_end)));
  box.append(what);
  const btns = h('div.row');
  if (isAuthoriser() && d.state === 'draft') {
    const me = S.user.login.toLowerCase();
    const self = me === String(d.created_by).toLowerCase();
    // the server also refuses whoever added a photo to someone else's entry
    const built = entries.filter((e) => String(e.added_by).toLowerCase() === me).length;
    btns.append(h('button.btn.btn-ok.btn-big', {
      type: 'button', disabled: self || built > 0 || !entries.length,
      onclick: async () => { if (await act(() => S.api.post('/api/deployments/' + d.id + '/authorise'), 'Authorised.')) route(); },
    }, 'Authorise this deployment'));
    if (self) btns.append(h('p.error', {}, 'You created this deployment: another authorising officer must authorise it.'));
    else if (built) btns.append(h('p.error', {}, 'You added ' + built + (built === 1 ? ' person' : ' people') + ' to this watchlist: another authorising officer must authorise it.'));
    else if (!entries.length) btns.append(h('p.muted', {}, 'The watchlist is empty.'));
  } else if (d.state === 'draft') {
    btns.append(h('p.muted', {}, 'An authorising officer who neither created this deployment (' + d.created_by + ') nor added to its watchlist authorises it.'));
  }
  if (isAuthoriser() && d.state === 'authorised')
    btns.append(h('button.btn.btn-ok.btn-big', { type: 'button', onclick: async () => { if (await act(() => S.api.post('/api/deployments/' + d.id + '/start'), 'Started: the cameras are running.')) route(); } }, 'Start the deployment'));
  if (isAuthoriser() && (d.state === 'live' || d.state === 'authorised')) {
    const reason = h('input', { name: 'end_reason', 'aria-label': 'Why it ends' });
    btns.append(h('label', {}, 'Why it ends', reason),
      h('button.btn.btn-bad', { type: 'button', onclick: async () => {
        if (!confirm('End deployment ' + d.name + '? Cameras stop and devices are signed out.')) return;
        if (await act(() => S.api.post('/api/deployments/' + d.id + '/end', reason.value ? { reason: reason.value } : {}), 'Ended.')) route();
      } }, 'End the deployment'));
  }
  box.append(btns);
  if (d.state === 'authorised' || d.state === 'live') box.append(amendPanel(d, entries));
  return box;
}

// The sane range of the deployment's own model set (threshold_meaning).
function saneRange(d) {
  const m = d.threshold_meaning || {};
  return m.sane_min !== undefined && m.sane_max !== undefined
    ? Number(m.sane_min).toFixed(2) + '–' + Number(m.sane_max).toFixed(2) + ' (' + d.model_set + ')'
    : 'the sane range of ' + d.model_set;
}

function amendPanel(d, entries) {
  const out = h('div', { 'aria-live': 'polite' });
  const kind = h('select', { name: 'kind' }, h('option', { value: 'threshold' }, 'Change the threshold'), h('option', { value: 'remove' }, 'Remove a watchlist entry'));
  const thr = h('label', {}, 'New threshold', h('input', { name: 'threshold', type: 'number', step: '0.001', min: '0.01', max: '0.99', value: String(d.threshold) }));
  const rm = h('label', { hidden: true }, 'Entry to remove', h('select', { name: 'remove_entry' }, entries.map((e) => h('option', { value: e.id }, e.display_name + ' (' + e.subject_ref + ')'))));
  kind.addEventListener('change', () => { thr.hidden = kind.value !== 'threshold'; rm.hidden = kind.value !== 'remove'; });
  const propose = h('form.cols', {},
    h('label', {}, 'Amendment', kind), thr, rm,
    h('label', {}, 'Why the change is needed', h('textarea', { name: 'reason', required: true })),
    h('label.check', {}, h('input', { type: 'checkbox', name: 'unusual_threshold_ok' }), 'A threshold outside ' + saneRange(d) + ' is meant'),
    h('div.row', {}, h('button.btn', { type: 'submit' }, 'Propose (step 1 of 2)')));
  propose.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(propose);
    const body = { reason: fd.get('reason') };
    if (kind.value === 'threshold') body.threshold = parseFloat(fd.get('threshold'));
    else body.remove_entry = parseInt(fd.get('remove_entry'), 10);
    if (fd.get('unusual_threshold_ok')) body.unusual_threshold_ok = true;
    const r = await act(() => S.api.post('/api/deployments/' + d.id + '/amendments', body));
    if (r) { propose.reset(); kind.dispatchEvent(new Event('change')); } // the fields shown follow the reset kind
    if (r) out.append(h('p.accepted', { role: 'status' }, 'Amendment ' + r.amendment + ' proposed. It takes effect when an authorising officer other than you authorises amendment ' + r.amendment + '.'));
  });
  const pending = h('div', { id: 'amendments' });
  loadAmendments(d, pending);
  propose.addEventListener('submit', () => setTimeout(() => loadAmendments(d, pending), 300));
  return h('div', {}, h('h3', {}, 'Amend (two-step: one proposes, another authorising officer authorises)'),
    propose, out, pending);
}

function amendmentWhat(a) {
  const parts = [];
  if (a.threshold !== null && a.threshold !== undefined) parts.push('threshold to ' + fmtThreshold(a.threshold));
  if (a.remove_entry) parts.push('remove entry #' + a.remove_entry + (a.remove_entry_name ? ' (' + a.remove_entry_name + ')' : ''));
  return parts.join('; ') || '—';
}

async function loadAmendments(d, box) {
  let r;
  try { r = await S.api.get('/api/deployments/' + d.id + '/amendments'); } catch (e) { clear(box).append(h('p.error', {}, errText(e))); return; }
  clear(box);
  const proposed = r.amendments.filter((a) => a.state === 'proposed');
  const done = r.amendments.filter((a) => a.state !== 'proposed');
  box.append(h('h4', { id: 'pend-h' }, 'Proposed, waiting for authorisation (' + proposed.length + ')'));
  if (!proposed.length) box.append(h('p.muted', {}, 'None.'));
  else box.append(h('table.small', { 'aria-labelledby': 'pend-h' },
    h('thead', {}, h('tr', {}, ['#', 'Change', 'Why', 'Proposed by', ''].map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, proposed.map((a) => {
      const own = S.user.login.toLowerCase() === String(a.proposed_by).toLowerCase();
      let cell;
      if (!isAuthoriser()) cell = h('span.muted', {}, 'an authorising officer authorises');
      else if (own) cell = h('span.muted', {}, 'you proposed it: another authorising officer authorises');
      else cell = h('button.btn.btn-ok', {
        type: 'button', 'aria-label': 'Authorise amendment ' + a.id,
        onclick: async () => {
          if (!confirm('Authorise amendment ' + a.id + ' (' + amendmentWhat(a) + ')? It takes effect on the next frame.')) return;
          if (await act(() => S.api.post('/api/amendments/' + a.id + '/authorise'), 'Amendment ' + a.id + ' authorised: in force from the next frame.')) route();
        },
      }, 'Authorise (step 2 of 2)');
      return h('tr', { id: 'amendment-' + a.id }, h('td', {}, String(a.id)), h('td', {}, amendmentWhat(a)), h('td', {}, a.reason),
        h('td', {}, a.proposed_by + ', ' + fmtTime(a.proposed_at)), h('td', {}, cell));
    }))));
  if (done.length) box.append(h('details', {}, h('summary', {}, 'Earlier amendments (' + done.length + ')'),
    h('table.small', {}, h('thead', {}, h('tr', {}, ['#', 'Change', 'Why', 'Proposed by', 'State'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, done.map((a) => h('tr', {}, h('td', {}, String(a.id)), h('td', {}, amendmentWhat(a)), h('td', {}, a.reason),
        h('td', {}, a.proposed_by + ', ' + fmtTime(a.proposed_at)),
        h('td', {}, a.state + (a.authorised_by ? ' by ' + a.authorised_by + ', ' + fmtTime(a.authorised_at) : ''))))))));
}

// Alerts ------------------------------------------------------------------------
let queueBox = null, reviewBox = null, queueDep = null, devicesCache = [];
async function renderAlerts(d, body) {
  queueDep = d;
  const { alerts } = await S.api.get('/api/deployments/' + d.id + '/alerts', { limit: 200 });
  for (const a of alerts) {
    const prev = S.alerts.get(a.id) || {};
    S.alerts.set(a.id, Object.assign({}, prev, a, { display_name: prev.display_name }));
  }
  try {
    const { entries } = await S.api.get('/api/deployments/' + d.id + '/watchlist');
    S.entries.set(d.id, new Map(entries.map((e) => [e.id, e])));
  } catch { /* an operator always may; others see less */ }
  try { devicesCache = (await S.api.get('/api/devices', { deployment: d.id })).devices.filter((x) => !x.revoked_at); } catch { devicesCache = []; }
  queueBox = h('ol.queue', { 'aria-label': 'Alert queue, newest first' });
  reviewBox = h('section.review', { 'aria-labelledby': 'rev-h', tabindex: '-1' });
  body.append(h('p.muted', {}, 'Keys: ', h('kbd', {}, 'C'), ' confirm (worth engaging), ', h('kbd', {}, 'R'), ' reject (not the person), ', h('kbd', {}, 'D'), ' dispatch, ', h('kbd', {}, 'J'), '/', h('kbd', {}, 'K'), ' next/previous alert, ', h('kbd', {}, 'N'), ' note.'),
    h('div.alerts-layout', {}, h('div', {}, h('h2', {}, 'Queue'), queueBox), reviewBox));
  if (!S.selected || !S.alerts.has(S.selected) || S.alerts.get(S.selected).deployment !== d.id) {
    const list = depAlerts();
    S.selected = (list.find((a) => !a.decision) || list[0] || {}).id || 0;
  }
  renderQueue(0);
}

function depAlerts() {
  return [...S.alerts.values()].filter((a) => queueDep && a.deployment === queueDep.id).sort((a, b) => b.id - a.id);
}

function alertStatus(a) {
  if (a.outcome) return OUTCOME_NAMES[a.outcome] || a.outcome;
  if (a.dispatched_at) return 'dispatched';
  if (a.decision) return a.decision;
  return 'awaiting decision';
}

// What matched (the alert's source): "best shot", "track template (4
// frames)"; alerts stored before openlfr kept it say so.  The queue's card
// says "matched: ...", the review lists it under "Matched".
function fmtMatched(a, short) {
  let live = 'not recorded';
  if (a.source === 'best_shot') live = 'best shot';
  else if (a.source === 'track_template') live = 'track template' + (a.template_n ? ' (' + a.template_n + ' frames)' : '');
  // an entry of several photos is matched by their mean, which resembles
  // strangers more often: the server reads the likeness for it
  if (!(a.entry_photos > 1)) return live;
  return live + (short ? ', mean of ' + a.entry_photos + ' photos' : ', against the mean of the entry\'s ' + a.entry_photos + ' photos');
}

function renderQueue(updatedId) {
  if (!queueBox || !queueBox.isConnected) return;
  clear(queueBox);
  const list = depAlerts();
  if (!list.length) queueBox.append(h('li.muted', {}, 'No alerts yet. New ones appear here as they happen.'));
  for (const a of list) {
    const e = entryOf(a);
    const btn = h('button', {
      type: 'button', 'aria-current': a.id === S.selected ? 'true' : null, class: S.fresh.has(a.id) ? 'new' : null,
      onclick: () => { S.selected = a.id; renderQueue(0); },
    },
    h('div.q-top', {}, h('span', {}, (e ? e.display_name : a.display_name || a.subject_ref)), h('span', {}, fmtLikeness(a.likeness))),
    h('div.q-sub', {}, '#' + a.id + ' · ' + a.camera + ' · ' + fmtTime(a.at, false)),
    h('div.q-sub.matched', {}, 'matched: ' + fmtMatched(a, true)),
    h('div.q-sub', {}, alertStatus(a)));
    queueBox.append(h('li', {}, btn));
  }
  const cur = S.alerts.get(S.selected);
  if (!cur) { clear(reviewBox).append(h('h2', { id: 'rev-h' }, 'Review'), h('p.muted', {}, 'Select an alert.')); return; }
  if (updatedId && updatedId !== S.selected) return;
  renderReview(cur, !!updatedId);
}

function entryOf(a) {
  const m = S.entries.get(a.deployment);
  return m && a.entry ? m.get(a.entry) : null;
}

let lastReviewKey = '';
function renderReview(a, imageOnly) {
  const e = entryOf(a);
  const key = a.id + '/' + (a._v || 0);
  if (imageOnly && reviewBox.querySelector('#live-face')) {
    // a better match came in: refresh the live face, score and what matched
    if (key !== lastReviewKey) imageInto(reviewBox.querySelector('#live-face'), '/api/alerts/' + a.id + '/image'); // no-store: a refetch gets the new face
    const m = reviewBox.querySelector('#alert-matched');
    if (m) m.textContent = fmtMatched(a);
    const sc = reviewBox.querySelector('#alert-score');
    if (sc) sc.textContent = fmtScore(a);
    const lk = reviewBox.querySelector('.likeness');
    if (lk) lk.textContent = fmtLikeness(a.likeness);
    lastReviewKey = key;
    return;
  }
  lastReviewKey = key;
  const wasFresh = S.fresh.delete(a.id);
  clear(reviewBox);
  reviewBox.classList.toggle('fresh', wasFresh);
  const name = e ? e.display_name : a.display_name || a.subject_ref;
  const live = h('img', { id: 'live-face', alt: 'Live face from camera ' + a.camera });
  const wl = h('img', { id: 'wl-face', alt: 'Watchlist image of ' + name });
  reviewBox.append(
    h('div.row', { style: 'justify-content:space-between' },
      h('h2', { id: 'rev-h' }, 'Alert #' + a.id + ': ' + name),
      h('span', {}, h('span.muted', {}, 'Likeness '), h('span.likeness', {}, fmtLikeness(a.likeness)))),
    h('div.pair', {},
      h('figure', {}, live, h('figcaption', {}, 'Live: camera ' + a.camera + ', ' + fmtTime(a.at))),
      h('figure', {}, wl, h('figcaption', {}, 'Watchlist: ' + name + ' (' + a.subject_ref + ')'))),
    h('dl.facts', {},
      h('dt', {}, 'Category'), h('dd', {}, e ? categoryName(e.category, e.category_other) : '—'),
      h('dt', {}, 'Reason for inclusion'), h('dd', {}, e ? e.reason : '—'),
      e && e.under_18 ? [h('dt', {}, 'Under 18'), h('dd', {}, e.under_18_justification || 'yes')] : null,
      h('dt', {}, 'Camera'), h('dd', {}, a.camera),
      h('dt', {}, 'Time'), h('dd', {}, fmtTime(a.at)),
      h('dt', {}, 'Score'), h('dd', { id: 'alert-score' }, fmtScore(a)),
      h('dt', {}, 'Matched'), h('dd', { id: 'alert-matched' }, fmtMatched(a)),
      h('dt', {}, 'Status'), h('dd', { id: 'alert-status' }, alertStatus(a) + (a.decided_by ? ' by ' + a.decided_by : '')),
      a.note ? [h('dt', {}, 'Operator\'s note'), h('dd', {}, a.note)] : null,
      a.outcome ? [h('dt', {}, 'Outcome'), h('dd', { id: 'alert-outcome' }, (OUTCOME_NAMES[a.outcome] || a.outcome) + ' — ' + (a.outcome_by || '') + ', ' + fmtTime(a.outcome_at) + (a.outcome_note ? ': ' + a.outcome_note : ''))] : null));
  if (a.has_face_image !== false) imageInto(live, '/api/alerts/' + a.id + '/image');
  else live.alt = 'No live face image kept for this alert';
  if (a.image) imageInto(wl, '/api/watchlist/images/' + a.image);
  reviewBox.append(decisionBar(a));
  if (wasFresh && document.activeElement === document.body) reviewBox.focus();
}

function fmtScore(a) {
  return (a.score !== undefined && a.score !== null ? Number(a.score).toFixed(3) : '—') + (a.threshold ? ' (threshold ' + fmtThreshold(a.threshold) + ')' : '');
}

function decisionBar(a) {
  const bar = h('div.decision');
  if (!isOperator()) { bar.append(h('p.muted', {}, 'Only an operator decides and dispatches.')); return bar; }
  if (!a.decision) {
    const note = h('textarea', { id: 'note', name: 'note', placeholder: 'optional: what you see' });
    const decide = async (decision) => {
      const body = { decision };
      if (note.value.trim()) body.note = note.value.trim();
      const r = await act(() => S.api.post('/api/alerts/' + a.id + '/decision', body), decision === 'confirm' ? 'Confirmed: now dispatch to officers.' : 'Rejected.');
      if (r) {
        S.alerts.set(r.id, Object.assign({}, S.alerts.get(r.id), r));
        renderQueue(0);
        if (decision === 'confirm') { const b = document.getElementById('dispatch'); if (b) b.focus(); }
      }
    };
    bar.append(h('div.decision-bar', {},
      h('label', {}, 'Note (optional)', note),
      h('button.btn.btn-ok.btn-big', { type: 'button', id: 'confirm', 'aria-keyshortcuts': 'C', onclick: () => decide('confirm') }, 'Confirm (C)'),
      h('button.btn.btn-bad.btn-big', { type: 'button', id: 'reject', 'aria-keyshortcuts': 'R', onclick: () => decide('reject') }, 'Reject (R)')),
    h('p.muted.small', {}, 'Compare the two faces. Confirm means worth engaging; reject means not the person. Nothing can be dispatched before a decision.'));
    return bar;
  }
  if (a.decision.startsWith('confirm') && !a.dispatched_at) {
    const all = h('input', { type: 'checkbox', id: 'dispatch-all', checked: true });
    const boxes = devicesCache.map((dv) => h('label.check', {}, h('input', { type: 'checkbox', name: 'dev', value: dv.id }), dv.name + ' (' + dv.officer + ')'));
    const send = async () => {
      const ids = [...bar.querySelectorAll('input[name=dev]:checked')].map((x) => parseInt(x.value, 10));
      const body = all.checked || !ids.length ? { all: true } : { devices: ids };
      const r = await act(() => S.api.post('/api/alerts/' + a.id + '/dispatch', body), 'Dispatched to ' + (body.all ? 'every device' : ids.length + ' device(s)') + '.');
      if (r) { S.alerts.set(r.id, Object.assign({}, S.alerts.get(r.id), r)); renderQueue(0); }
    };
    bar.append(h('fieldset', {}, h('legend', {}, 'Dispatch to officers'),
      h('label.check', {}, all, 'All devices on this deployment (' + devicesCache.length + ')'),
      boxes.length ? h('div', {}, boxes) : h('p.muted', {}, 'No devices paired yet (Devices tab).'),
      h('button.btn.btn-big', { type: 'button', id: 'dispatch', 'aria-keyshortcuts': 'D', onclick: send }, 'Dispatch (D)')));
    all.addEventListener('change', () => { for (const b of bar.querySelectorAll('input[name=dev]')) b.disabled = all.checked; });
    for (const b of bar.querySelectorAll('input[name=dev]')) b.disabled = true;
  } else if (a.dispatched_at) {
    bar.append(h('p', { role: 'status' }, 'Dispatched ' + fmtTime(a.dispatched_at) + (a.dispatched_all ? ' to every device' : '') + '. ' + (a.outcome ? '' : 'Waiting for the officers\' outcome.')));
  }
  return bar;
}

document.addEventListener('keydown', (ev) => {
  if (!S.route || S.route.view !== 'alerts' || ev.ctrlKey || ev.metaKey || ev.altKey) return;
  const t = ev.target;
  if (t && (t.tagName === 'INPUT' || t.tagName === 'TEXTAREA' || t.tagName === 'SELECT')) {
    if (ev.key === 'Escape') t.blur();
    return;
  }
  const k = ev.key.toLowerCase();
  const click = (id) => { const b = document.getElementById(id); if (b && !b.disabled) { ev.preventDefault(); b.click(); } };
  if (k === 'c') click('confirm');
  else if (k === 'r') click('reject');
  else if (k === 'd') click('dispatch');
  else if (k === 'n') { const n = document.getElementById('note'); if (n) { ev.preventDefault(); n.focus(); } }
  else if (k === 'j' || k === 'k') {
    const list = depAlerts();
    const i = list.findIndex((a) => a.id === S.selected);
    const j = k === 'j' ? Math.min(list.length - 1, i + 1) : Math.max(0, i - 1);
    if (list[j]) { S.selected = list[j].id; renderQueue(0); }
  }
});

// Photo checks --------------------------------------------------------------------
// The officer's stated reason as the app offered it (ops_check.c): a code,
// "other: <text>", or free text from another client.
const CHECK_REASONS = { matches_description: 'Matches a description', intelligence: 'Intelligence', behaviour: 'Behaviour' };
function checkReason(r) {
  const m = /^other: ([\s\S]*)$/.exec(r || '');
  return CHECK_REASONS[r] || (m ? 'Other: ' + m[1] : r);
}

async function renderChecks(d, body) {
  const { checks } = await S.api.get('/api/deployments/' + d.id + '/checks');
  body.append(h('section.panel', { 'aria-labelledby': 'chk-h' }, h('h2', { id: 'chk-h' }, 'Photo checks by officers (' + checks.length + ')'),
    h('p.muted', {}, 'Each check searched this deployment\'s watchlist only. The officer\'s photo is not kept unless it matched.'),
    checks.length ? h('table', {}, h('caption.sr-only', {}, 'Photo checks'),
      h('thead', {}, h('tr', {}, ['#', 'When', 'Officer', 'Why', 'Result', 'Subject', 'Score'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, checks.map((c) => h('tr', {},
        h('td', {}, String(c.id)), h('td', {}, fmtTime(c.at)), h('td', {}, c.officer + (c.device ? ' (device ' + c.device + ')' : '')),
        h('td', {}, checkReason(c.reason)), h('td', {}, c.result.replace(/_/g, ' ')), h('td', {}, c.subject_ref || '—'),
        h('td', {}, c.score !== null && c.score !== undefined ? Number(c.score).toFixed(3) : '—')))))
      : h('p.muted', {}, 'No photo checks yet.')));
}

// Devices ----------------------------------------------------------------------------
function deviceTable(devices, withRevoke) {
  if (!devices.length) return h('p.muted', {}, 'No devices paired.');
  const recent = (t) => t && Date.now() - new Date(t).getTime() < 5 * 60e3;
  return h('table', {}, h('caption.sr-only', {}, 'Devices'),
    h('thead', {}, h('tr', {}, ['Device', 'Officer', 'Paired', 'Last seen', 'State', withRevoke ? '' : null].filter((x) => x !== null).map((t) => h('th', { scope: 'col' }, t)))),
    h('tbody', {}, devices.map((dv) => h('tr', {},
      h('th', { scope: 'row' }, dv.name), h('td', {}, dv.officer), h('td', {}, fmtTime(dv.paired_at)), h('td', {}, fmtAgo(dv.last_seen_at)),
      h('td', {}, dv.revoked_at ? h('span.pill.pill-off', {}, 'revoked by ' + dv.revoked_by) : recent(dv.last_seen_at) ? h('span.pill.pill-ok', {}, 'connected') : h('span.pill.pill-warn', {}, 'not seen lately')),
      withRevoke ? h('td', {}, dv.revoked_at ? null : h('button.btn.btn-bad', {
        type: 'button', 'aria-label': 'Revoke ' + dv.name,
        onclick: async () => {
          if (!confirm('Revoke ' + dv.name + ' (' + dv.officer + ')? It is signed out at once.')) return;
          if (await act(() => S.api.del('/api/devices/' + dv.id), dv.name + ' revoked.')) route();
        },
      }, 'Revoke')) : null))));
}

async function renderDevices(d, body) {
  const pairBox = h('div', { 'aria-live': 'polite' });
  const pairBtn = h('button.btn.btn-big', {
    type: 'button', disabled: !(d.state === 'authorised' || d.state === 'live') || !isOperator(),
    onclick: async () => {
      const r = await act(() => S.api.post('/api/deployments/' + d.id + '/pair-codes', {}));
      if (!r) return;
      clear(pairBox);
      const qr = h('div.qr', { role: 'img', 'aria-label': 'QR code for pairing; the same as the code' });
      if (r.qr_svg) {
        const doc = new DOMParser().parseFromString(r.qr_svg, 'image/svg+xml');
        const svg = doc.documentElement;
        if (svg && svg.nodeName === 'svg') { svg.setAttribute('aria-hidden', 'true'); qr.append(document.importNode(svg, true)); }
      }
      pairBox.append(h('div.row', { style: 'align-items:flex-start;gap:2rem' }, qr,
        h('div', {}, h('p', {}, 'On the officer\'s phone or tablet, open ', h('b', {}, (r.server_url || location.origin) + '/app/'), ', then scan this QR code or type the code:'),
          h('p.code', { id: 'pair-code' }, r.code),
          h('p', {}, 'Valid until ' + fmtTime(r.expires_at) + ', once. The officer then signs in on the device.'),
          r.ca_fingerprint ? h('p.small.muted', {}, 'Van certificate fingerprint: ' + r.ca_fingerprint) : null)));
    },
  }, 'New pairing code');
  body.append(h('section.panel', { 'aria-labelledby': 'pair-h' }, h('h2', { id: 'pair-h' }, 'Pair an officer\'s device'),
    d.state === 'authorised' || d.state === 'live' ? null : h('p.muted', {}, 'Devices pair with an authorised or live deployment.'),
    pairBtn, pairBox));
  const { devices } = await S.api.get('/api/devices', { deployment: d.id });
  body.append(h('section.panel', { 'aria-labelledby': 'devs-h' }, h('h2', { id: 'devs-h' }, 'Devices of this deployment'), deviceTable(devices, true)));
}

// Audit ------------------------------------------------------------------------------
async function renderAudit() {
  main.append(h('h1', {}, 'Audit log'));
  const verifyOut = h('div', { 'aria-live': 'polite' });
  const verify = h('button.btn', {
    type: 'button', onclick: async () => {
      clear(verifyOut);
      try {
        const v = await S.api.get('/api/audit/verify');
        verifyOut.append(v.ok
          ? h('p.accepted', { role: 'status' }, 'The chain is intact: ' + v.records + ' records, ' + v.anchors + ' anchors; head #' + v.head_seq + ' ' + v.head_hash.slice(0, 16) + '…')
          : h('p.reject', { role: 'alert' }, 'The chain is BROKEN: ' + (v.message || JSON.stringify(v))));
      } catch (e) { verifyOut.append(h('p.reject', { role: 'alert' }, 'Verification failed: ' + errText(e))); }
    },
  }, 'Verify the chain');
  main.append(h('section.panel', { 'aria-labelledby': 'ver-h' }, h('h2', { id: 'ver-h' }, 'Integrity'),
    h('p.muted', {}, 'Every record holds the hash of the one before; a change anywhere breaks the chain from there on.'), verify, verifyOut));
  main.append(await checkpointsPanel());

  const table = h('div');
  const form = h('form.cols', {},
    h('label', {}, 'Deployment', h('span.hint', {}, 'number; empty: all'), h('input', { name: 'deployment', type: 'number', min: '1' })),
    h('label', {}, 'From record', h('input', { name: 'from', type: 'number', min: '1', value: '1' })),
    h('label', {}, 'At most', h('input', { name: 'limit', type: 'number', min: '1', max: '1000', value: '200' })),
    h('label', {}, 'Action contains', h('input', { name: 'action', placeholder: 'alert.' })),
    h('label', {}, 'Actor contains', h('input', { name: 'actor' })),
    h('div.row', {}, h('button.btn', { type: 'submit' }, 'Show records')));
  const load = async () => {
    const fd = new FormData(form);
    clear(table);
    try {
      const r = await S.api.get('/api/audit', { deployment: fd.get('deployment'), from: fd.get('from'), limit: fd.get('limit') });
      const act = String(fd.get('action') || '').toLowerCase(), who = String(fd.get('actor') || '').toLowerCase();
      const recs = r.records.filter((x) => (!act || x.action.toLowerCase().includes(act)) && (!who || x.actor.toLowerCase().includes(who)));
      table.append(h('p.muted', {}, recs.length + ' of ' + r.records.length + ' records shown. No biometric images are ever part of the log.'),
        h('table.small', {}, h('caption.sr-only', {}, 'Audit records'),
          h('thead', {}, h('tr', {}, ['#', 'When', 'Actor', 'Role', 'Action', 'Deployment', 'Details'].map((t) => h('th', { scope: 'col' }, t)))),
          h('tbody', {}, recs.map((x) => h('tr', {},
            h('td', {}, String(x.seq)), h('td', {}, fmtTime(x.at)), h('td', {}, x.actor), h('td', {}, x.role), h('td', {}, x.action),
            h('td', {}, x.deployment ? String(x.deployment) : '—'),
            h('td', {}, h('pre.details', {}, typeof x.details === 'string' ? x.details : JSON.stringify(x.details))))))));
    } catch (e) { table.append(h('p.error', { role: 'alert' }, errText(e))); }
  };
  form.addEventListener('submit', (ev) => { ev.preventDefault(); load(); });
  main.append(h('section.panel', { 'aria-labelledby': 'rec-h' }, h('h2', { id: 'rec-h' }, 'Records'), form, table));
  await load();
}

// Signed checkpoints: the van's key signs the log's head; the file (or its
// compact form, as a QR code made on the van) goes to an oversight body,
// which later checks a copy of the database against it.
async function auditRecords(action) {
  const out = [];
  for (let from = 1; ;) {
    const r = await S.api.get('/api/audit', { from, limit: 1000 });
    for (const x of r.records) if (x.action === action) out.push(x);
    if (r.records.length < 1000) return out;
    from = r.records[r.records.length - 1].seq + 1;
  }
}

async function checkpointsPanel() {
  const sec = h('section.panel', { 'aria-labelledby': 'cp-h' }, h('h2', { id: 'cp-h' }, 'Signed checkpoints'));
  let pubkey = '';
  try { pubkey = (await S.api.get('/api/audit/verify')).pubkey || ''; } catch (e) { sec.append(h('p.error', { role: 'alert' }, errText(e))); }
  const copied = h('span.small.muted', { role: 'status' });
  const copy = async (text, what) => {
    try { await navigator.clipboard.writeText(text); copied.textContent = what + ' copied.'; }
    catch { copied.textContent = 'Copy failed: select the text and copy it.'; }
  };
  const cmd = 'openlfr audit verify --db COPY --checkpoint FILE --pubkey ' + (pubkey || 'KEY');
  sec.append(
    h('p.muted', {}, 'The van signs the head of the log with its own key at authorisation, start and end of each deployment, at purges and on demand. An oversight body keeps the checkpoint file (or photographs its QR code) and the public key; later, against a copy of the database, a rewritten, truncated or reordered history fails and the first record that differs is named.'),
    h('dl.facts', {},
      h('dt', {}, 'The van\'s public key'),
      h('dd', {}, h('code.key', { id: 'pubkey' }, pubkey || 'not available'), ' ',
        pubkey ? h('button.btn.btn-quiet', { type: 'button', id: 'copy-pubkey', onclick: () => copy(pubkey, 'Public key') }, 'Copy the key') : null),
      h('dt', {}, 'The oversight body runs'),
      h('dd', {}, h('code.cmd', { id: 'verify-cmd' }, cmd), ' ',
        h('button.btn.btn-quiet', { type: 'button', onclick: () => copy(cmd, 'Command') }, 'Copy the command'),
        h('div.small.muted', {}, 'COPY: a copy of the van\'s database; FILE: the checkpoint file (several --checkpoint may be given).'))),
    copied);
  const list = h('div');
  const qrBox = h('div', { id: 'cp-qr', 'aria-live': 'polite' });
  const make = h('button.btn', {
    type: 'button', id: 'make-checkpoint',
    onclick: async () => {
      const r = await act(() => S.api.post('/api/audit/checkpoints', {}),
        (r) => 'Checkpoint made: record #' + r.checkpoint.record + ', vouching for records 1–' + r.checkpoint.seq + '.');
      if (r) await load();
    },
  }, 'Make a checkpoint now');
  const download = (rec) => act(async () => {
    const { checkpoint } = await S.api.get('/api/audit/checkpoint', { record: rec });
    saveBlob(new Blob([checkpoint.text], { type: 'text/plain' }), 'checkpoint-' + rec + '.txt');
  }, 'Checkpoint file checkpoint-' + rec + '.txt downloaded.');
  const showQr = async (rec) => {
    clear(qrBox);
    const r = await act(() => S.api.get('/api/audit/checkpoint/qr', { record: rec }));
    if (!r) return;
    const qr = h('div.qr.qr-cp', { role: 'img', 'aria-label': 'QR code of checkpoint record ' + rec + ' (its compact form, shown below)' });
    const svg = new DOMParser().parseFromString(r.qr_svg, 'image/svg+xml').documentElement;
    if (svg && svg.nodeName === 'svg') { svg.setAttribute('aria-hidden', 'true'); qr.append(document.importNode(svg, true)); }
    qrBox.append(h('h3', { id: 'cp-qr-h' }, 'Checkpoint record #' + rec + ' as a QR code'),
      h('div.row', { style: 'align-items:flex-start;gap:2rem' }, qr,
        h('div', {}, h('p', {}, 'The compact form: the signed header without the per-record lines. Photographed, it still proves the head of the log; the full file also names the first record that differs.'),
          h('pre.details.compact', { 'aria-labelledby': 'cp-qr-h' }, r.compact))));
  };
  const load = async () => {
    clear(list);
    try {
      const recs = (await auditRecords('audit.checkpoint')).reverse();
      if (!recs.length) { list.append(h('p.muted', {}, 'No checkpoints yet.')); return; }
      list.append(h('table.small', { id: 'checkpoints' }, h('caption.sr-only', {}, 'Signed checkpoints'),
        h('thead', {}, h('tr', {}, ['Record', 'Vouches for', 'When', 'Reason', 'Deployment', 'By', ''].map((t) => h('th', { scope: 'col' }, t)))),
        h('tbody', {}, recs.map((x) => {
          let dt = x.details;
          if (typeof dt === 'string') { try { dt = JSON.parse(dt); } catch { dt = {}; } }
          dt = dt || {};
          return h('tr', { id: 'checkpoint-' + x.seq },
            h('th', { scope: 'row' }, '#' + x.seq),
            h('td', {}, 'records 1–' + (dt.covers_seq !== undefined ? dt.covers_seq : '?')),
            h('td', {}, fmtTime(x.at)),
            h('td', {}, String(dt.reason || '—').replace(/_/g, ' ')),
            h('td', {}, dt.deployment ? String(dt.deployment) : '—'),
            h('td', {}, x.actor),
            h('td.actions', {},
              h('button.btn.btn-quiet', { type: 'button', 'aria-label': 'Download checkpoint ' + x.seq, onclick: () => download(x.seq) }, 'Download'),
              ' ',
              h('button.btn.btn-quiet', { type: 'button', 'aria-label': 'Show checkpoint ' + x.seq + ' as a QR code', onclick: () => showQr(x.seq) }, 'QR code')));
        }))));
    } catch (e) { list.append(h('p.error', { role: 'alert' }, errText(e))); }
  };
  sec.append(h('div.row', {}, make), list, qrBox);
  await load();
  return sec;
}

// Evaluation ------------------------------------------------------------------------
// `openlfr eval report` run by the server in a child process on the van's
// data (option data / $OPENLFR_DATA): one at a time, its progress polled
// each second while it runs, the runs kept beside the database.
const EVAL_STATUS = {
  running: ['running', 'pill-warn'], cancelling: ['cancelling…', 'pill-warn'], done: ['done', 'pill-ok'],
  failed: ['failed', 'pill-bad'], cancelled: ['cancelled', 'pill-off'], interrupted: ['interrupted', 'pill-bad'],
};
const fmtSecs = (s) => (s === undefined || s === null ? '—' : s < 90 ? Math.round(s) + ' s' : s < 5400 ? Math.round(s / 60) + ' min' : (s / 3600).toFixed(1) + ' h');
const sampleText = (k) => (k === 1 ? 'every photo (full)' : 'every ' + k + 'th person / image');

async function renderEval() {
  document.title = 'Evaluation — openlfr van console';
  if (!isAuditor() && !isAdmin()) {
    main.append(h('h1', {}, 'Accuracy and fairness evaluation'),
      h('p.error', { role: 'alert' }, 'The evaluation is for auditors and administrators; ' + S.user.login + ' is not one.'));
    return;
  }
  main.append(h('h1', {}, 'Accuracy and fairness evaluation'),
    h('p.muted', {}, 'How accurate the face matching is, and how it differs between groups of people, measured on the face data sets on this van: verification (DET curve, TAR at FAR 1e-2 to 1e-6), open-set identification (FNIR at FPIR 1e-2 to 1e-4 by watchlist size), false match and false non-match rates by sex, race and age band with 95 % intervals, and detection by face size and skin tone. The report holds numbers and charts only, no face image.'));
  const dataBox = h('div');
  const runBox = h('div', { id: 'eval-running', 'aria-live': 'polite' });
  const listBox = h('div');
  const form = h('form.stack', { id: 'eval-form' });
  main.append(
    h('section.panel', { 'aria-labelledby': 'evd-h' }, h('h2', { id: 'evd-h' }, 'Data'), dataBox),
    h('section.panel', { 'aria-labelledby': 'evs-h' }, h('h2', { id: 'evs-h' }, 'Run an evaluation'), form, runBox),
    h('section.panel', { 'aria-labelledby': 'evl-h' }, h('h2', { id: 'evl-h' }, 'Runs'), listBox));

  let st = null, drawnForm = false;
  const open = async (run) => {
    const win = window.open('', '_blank');
    try {
      const u = URL.createObjectURL(await fetchBlob('/api/eval/runs/' + run.id + '/report?format=html'));
      setTimeout(() => URL.revokeObjectURL(u), 60000);
      if (win) win.location.href = u; else location.href = u;
    } catch (e) { if (win) win.close(); flash('The report could not be opened: ' + errText(e)); }
  };
  const download = (run) => act(async () => saveBlob(await fetchBlob('/api/eval/runs/' + run.id + '/report?format=json'),
    'evaluation-run-' + run.id + '.json'), 'report.json of run ' + run.id + ' downloaded.');

  const modelSets = () => {
    const d = st.default_model_set;
    return d && st.model_sets.includes(d) ? [d, ...st.model_sets.filter((m) => m !== d)] : st.model_sets;
  };
  const drawForm = () => {
    clear(form);
    const usable = st.data.usable, busy = !!st.running;
    const radio = (value, label, hint, checked) => h('label.radio', {},
      h('input', { type: 'radio', name: 'size', value, checked: checked || null }), ' ', h('b', {}, label), ' ', h('span.muted', {}, hint));
    const custom = h('input', { name: 'sample', type: 'number', min: '1', max: '1000', value: '10', 'aria-label': 'Every K-th person or image' });
    form.append(
      h('fieldset', {}, h('legend', {}, 'How much of the data'),
        radio('quick', 'Quick', '— every ' + st.quick_sample + 'th person and image: rough figures (wide intervals) in minutes', true),
        radio('full', 'Full', '— every photo: the figures to publish; by far the longest run'),
        h('label.radio', {}, h('input', { type: 'radio', name: 'size', value: 'custom' }), ' ', h('b', {}, 'Every K-th'), ' ', custom)),
      // the deployments' default first and chosen (the server says which)
      h('label', {}, 'Model set', h('select', { name: 'model_set', id: 'eval-model-set' }, modelSets().map((m) =>
        h('option', { value: m, selected: m === st.default_model_set || null }, m + (m === st.default_model_set ? ' (default)' : ''))))),
      h('div.row', {},
        h('button.btn', { type: 'submit', id: 'eval-start', disabled: !usable || busy || null }, 'Start the evaluation'),
        h('span.small.muted', {}, busy ? 'One evaluation runs at a time.' : 'It runs as a separate process at low priority: live cameras come first.')));
    drawnForm = true;
  };
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    const fd = new FormData(form);
    const size = fd.get('size');
    const sample = size === 'quick' ? st.quick_sample : size === 'full' ? 1 : parseInt(fd.get('sample'), 10);
    const r = await act(() => S.api.post('/api/eval/runs', { sample, model_set: fd.get('model_set') }),
      (r) => 'Evaluation run ' + r.run.id + ' started (' + sampleText(sample) + ').');
    if (r) await refresh();
  });

  const drawRunning = (run) => {
    clear(runBox);
    if (!run) return;
    const p = run.progress || { stage: 0, stages: 5, fraction: 0, stage_name: 'starting', lines: [] };
    const cancel = h('button.btn.btn-bad', {
      type: 'button', id: 'eval-cancel', disabled: run.status === 'cancelling' || null,
      onclick: async () => {
        if (!confirm('Cancel evaluation run ' + run.id + '? What it measured so far is lost.')) return;
        const r = await act(() => S.api.post('/api/eval/runs/' + run.id + '/cancel', {}), cancellingText(run.id));
        if (r) await refresh();
      },
    }, 'Cancel the run');
    runBox.append(h('div.eval-run', {},
      h('h3', { id: 'evr-h' }, 'Run ' + run.id + ' ', h('span.pill', { class: EVAL_STATUS[run.status][1] }, EVAL_STATUS[run.status][0])),
      h('p', {}, 'Started ' + fmtTime(run.started_at) + ' by ' + run.by + ' — ' + sampleText(run.sample) + ', ' + run.model_set + ' — ' + fmtSecs(run.seconds) + ' so far.'),
      h('label.small', { for: 'eval-progress' }, 'Stage ' + Math.max(p.stage, 1) + ' of ' + p.stages + ': ' + p.stage_name),
      h('progress', { id: 'eval-progress', max: '1', value: String(p.fraction || 0) }, Math.round(100 * (p.fraction || 0)) + ' %'),
      h('pre.details.eval-lines', { 'aria-label': 'The evaluation\'s latest progress lines' }, (p.lines || []).join('\n') || 'starting…'),
      h('div.row', {}, cancel)));
  };

  const drawList = () => {
    clear(listBox);
    if (!st.runs.length) { listBox.append(h('p.muted', {}, 'No evaluation has been run on this van yet.')); return; }
    listBox.append(h('table.small', { id: 'eval-runs' }, h('caption.sr-only', {}, 'Evaluation runs, newest first'),
      h('thead', {}, h('tr', {}, ['Run', 'Started', 'By', 'Sample', 'Model set', 'Status', 'Took', 'Report'].map((t) => h('th', { scope: 'col' }, t)))),
      h('tbody', {}, st.runs.map((x) => {
        const [txt, cls] = EVAL_STATUS[x.status] || [x.status, 'pill-info'];
        const took = x.ended_at && x.started_at ? (Date.parse(x.ended_at) - Date.parse(x.started_at)) / 1000 : x.seconds;
        return h('tr', { id: 'eval-run-' + x.id },
          h('th', { scope: 'row' }, '#' + x.id),
          h('td', {}, fmtTime(x.started_at)), h('td', {}, x.by), h('td', {}, sampleText(x.sample)), h('td', {}, x.model_set),
          h('td', {}, h('span.pill', { class: cls }, txt), x.error ? h('div.small.error', {}, x.error) : null),
          h('td', {}, fmtSecs(took)),
          h('td.actions', {}, x.has_report ? [
            h('button.btn.btn-quiet', { type: 'button', 'aria-label': 'Open the report of run ' + x.id, onclick: () => open(x) }, 'Open'), ' ',
            h('button.btn.btn-quiet', { type: 'button', 'aria-label': 'Download report.json of run ' + x.id, onclick: () => download(x) }, 'JSON')]
            : h('span.muted', {}, '—')));
      }))),
    h('p.small.muted', {}, st.runs_total > st.runs.length ? 'The newest ' + st.runs.length + ' of ' + st.runs_total + ' runs are listed. ' : '',
      'Each run is kept on the van beside its database (eval-runs/run-N: report.json, index.html, progress.log); N is its eval.start record in the audit log.'));
  };

  // "Cancelling run N…" stands only while run N is still running: once the
  // list has it cancelled (or done, failed, interrupted) the banner says so
  const cancellingText = (id) => 'Cancelling run ' + id + '…';
  const settleFlash = () => {
    const f = $('flash');
    const m = !f.hidden && f.textContent.match(/^Cancelling run (\d+)…$/);
    if (!m) return;
    const x = st.runs.find((r) => r.id === parseInt(m[1], 10));
    if (!x || x.status === 'running' || x.status === 'cancelling') return;
    const bad = x.status === 'failed' || x.status === 'interrupted';
    flash('Evaluation run ' + x.id + ' ' + (EVAL_STATUS[x.status] ? EVAL_STATUS[x.status][0] : x.status) + (x.error ? ': ' + x.error : '') + '.', !bad);
  };
  let wasRunning = null;
  const refresh = async () => {
    try { st = await S.api.get('/api/eval'); } catch (e) { clear(dataBox).append(h('p.error', { role: 'alert' }, errText(e))); return; }
    clear(dataBox).append(st.data.usable
      ? h('p', { id: 'eval-data' }, 'The van\'s evaluation data: ', h('code', {}, st.data.dir), ' (LFW, UTKFace, WIDER FACE, CelebA).')
      : h('p.reject', { id: 'eval-data', role: 'status' }, h('b', {}, 'No evaluation can run on this van: '), st.data.message + '. ',
        'Set the server option data (or $OPENLFR_DATA) to the folder holding lfw/, utkface/, wider/ and celeba/ and restart the server. The evaluation can also run on another machine: openlfr eval report --data DIR --out DIR.'));
    const running = st.running ? st.running.id : 0;
    if (!drawnForm || running !== wasRunning) drawForm();
    const ended = wasRunning && !running ? wasRunning : 0;
    wasRunning = running;
    drawRunning(st.running);
    drawList();
    if (ended) {
      const x = st.runs.find((r) => r.id === ended);
      if (x) announce($('live'), 'Evaluation run ' + x.id + ' ' + x.status + (x.error ? ': ' + x.error : ''));
    }
    settleFlash();
  };
  await refresh();
  S.timers.push(setInterval(() => { if (st && st.running && document.visibilityState === 'visible') refresh(); }, 1000));
}

// ---------------------------------------------------------------------------
(async function boot() {
  const t = sessionStorage.getItem(TOKEN_KEY);
  if (t) {
    try { await startSession(t); } catch { sessionStorage.removeItem(TOKEN_KEY); S.user = null; }
  }
  if (S.user && parseHash().view === 'login') location.hash = '#/';
  await route();
})();
