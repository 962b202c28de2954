// api.js - what the van console and the officers' app share: calls to the
// van's API (JSON errors turned into ApiError with the server's sentence),
// images fetched with the bearer token and shown from memory (never written
// to the browser's cache: the server sends them no-store), the live event
// stream with resume (Last-Event-ID), and small DOM helpers.
//
// Everything here runs in the browser, served by `openlfr serve` itself: no
// CDN, no framework, no build step.

export class ApiError extends Error {
  constructor(status, code, message, body) {
    super(message);
    this.status = status;
    this.code = code;
    this.body = body || {};
  }
}

// One client per signed-in principal.  onUnauthenticated is called when the
// server answers 401 (session ended, device revoked).
export class Api {
  constructor(token, { onUnauthenticated } = {}) {
    this.token = token || '';
    this.onUnauthenticated = onUnauthenticated || null;
  }

  headers(extra) {
    const h = Object.assign({}, extra || {});
    if (this.token) h.Authorization = 'Bearer ' + this.token;
    return h;
  }

  async call(method, path, body, { query, raw, contentType } = {}) {
    let url = path;
    if (query) {
      const q = new URLSearchParams();
      for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== null && v !== '') q.set(k, String(v));
      const s = q.toString();
      if (s) url += '?' + s;
    }
    const init = { method, headers: this.headers(), cache: 'no-store' };
    if (raw) {
      init.body = raw;
      init.headers['Content-Type'] = contentType;
    } else if (body !== undefined) {
      init.body = JSON.stringify(body);
      init.headers['Content-Type'] = 'application/json';
    }
    let res;
    try {
      res = await fetch(url, init);
    } catch (e) {
      throw new ApiError(0, 'NETWORK', 'The van\'s server cannot be reached (' + e.message + ')');
    }
    let data = null;
    const text = await res.text();
    try { data = text ? JSON.parse(text) : {}; } catch { data = { text }; }
    if (!res.ok) {
      const err = data && data.error ? data.error : {};
      const e = new ApiError(res.status, err.code || 'HTTP_' + res.status,
        err.message || ('HTTP ' + res.status), data);
      if (res.status === 401 && this.onUnauthenticated) this.onUnauthenticated(e);
      throw e;
    }
    return data;
  }

  get(path, query) { return this.call('GET', path, undefined, { query }); }
  post(path, body) { return this.call('POST', path, body || {}); }
  del(path) { return this.call('DELETE', path); }

  // An image (alert crop, watchlist image) as an object URL held in memory.
  // The caller revokes it (revokeImages) when the view goes.
  async image(path) {
    const res = await fetch(path, { headers: this.headers(), cache: 'no-store' });
    if (!res.ok) throw new ApiError(res.status, 'IMAGE', 'image not available (HTTP ' + res.status + ')');
    const blob = await res.blob();
    return URL.createObjectURL(blob);
  }
}

// Live events (GET /api/events).  EventSource cannot send headers, so the
// token goes in the query (the server accepts access_token for this route
// only) and the last event seen goes as last_event_id: after a dropped
// connection, a network change or the browser going offline and back, the
// stream resumes exactly after the last event handled and the server sends
// what was missed from its history.
//
// states: 'connecting', 'live', 'reconnecting', 'offline', 'closed'
export class EventStream {
  constructor(token, { onEvent, onState, types, lastId } = {}) {
    this.token = token;
    this.onEvent = onEvent || (() => {});
    this.onState = onState || (() => {});
    this.types = types || [];
    this.lastId = lastId || 0;
    this.es = null;
    this.timer = null;
    this.retryMs = 1000;
    this.closed = false;
    this.state = '';
    this.onOnline = () => this.connect();
    this.onOffline = () => { this.drop(); this.setState('offline'); };
    window.addEventListener('online', this.onOnline);
    window.addEventListener('offline', this.onOffline);
  }

  setState(s, detail) {
    if (this.state === s && !detail) return;
    this.state = s;
    this.onState(s, detail);
  }

  url() {
    const q = new URLSearchParams({ access_token: this.token });
    if (this.lastId) q.set('last_event_id', String(this.lastId));
    return '/api/events?' + q.toString();
  }

  connect() {
    if (this.closed) return;
    this.drop();
    if (navigator.onLine === false) { this.setState('offline'); return; }
    this.setState(this.lastId ? 'reconnecting' : 'connecting');
    const es = new EventSource(this.url());
    this.es = es;
    es.onopen = () => { this.retryMs = 1000; this.setState('live'); };
    const handle = (ev) => {
      const id = parseInt(ev.lastEventId, 10);
      if (id > this.lastId) this.lastId = id;
      else if (id && id <= this.lastId) return; // already handled
      let data = {};
      try { data = JSON.parse(ev.data); } catch { /* keep {} */ }
      this.onEvent(ev.type, data, id);
    };
    for (const t of this.types) es.addEventListener(t, handle);
    es.addEventListener('gap', () => this.onEvent('gap', {}, 0));
    es.addEventListener('session.ended', () => { this.onEvent('session.ended', {}, 0); this.close(); });
    es.onerror = () => {
      // the browser retries by itself, but without our last_event_id in the
      // URL after a server restart; reconnect ourselves with backoff
      this.drop();
      if (this.closed) return;
      this.setState(navigator.onLine === false ? 'offline' : 'reconnecting');
      this.timer = setTimeout(() => this.connect(), this.retryMs);
      this.retryMs = Math.min(this.retryMs * 2, 15000);
    };
  }

  drop() {
    if (this.timer) { clearTimeout(this.timer); this.timer = null; }
    if (this.es) { this.es.close(); this.es = null; }
  }

  close() {
    this.closed = true;
    this.drop();
    window.removeEventListener('online', this.onOnline);
    window.removeEventListener('offline', this.onOffline);
    this.setState('closed');
  }
}

// DOM helpers ---------------------------------------------------------------
// h('div.card', {onclick}, child, 'text', ...): a tiny element builder.
// Text is always set as text, never as HTML.
export function h(tag, attrs, ...children) {
  const [name, ...classes] = tag.split('.');
  const el = document.createElement(name || 'div');
  if (classes.length) el.className = classes.join(' ');
  if (attrs) {
    for (const [k, v] of Object.entries(attrs)) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
      else if (k === 'class') el.className += (el.className ? ' ' : '') + v;
      else if (k === 'dataset') Object.assign(el.dataset, v);
      // the value drawn is also the default: a redraw tells the user's
      // typing (value != defaultValue) from what the screen showed
      else if (k === 'value') { if ('defaultValue' in el) el.defaultValue = v; el.value = v; }
      else if (k === 'checked') el.defaultChecked = el.checked = !!v;
      else if (v === true) el.setAttribute(k, '');
      else el.setAttribute(k, String(v));
    }
  }
  for (const c of children.flat()) {
    if (c === undefined || c === null || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

export function clear(el) { while (el.firstChild) el.removeChild(el.firstChild); return el; }

// "2025-06-01T10:00:00Z" -> local "01/06/2025, 11:00:00"
export function fmtTime(t, withDate = true) {
  if (!t) return '—';
  const d = new Date(t);
  if (isNaN(d)) return String(t);
  return withDate ? d.toLocaleString('en-GB') : d.toLocaleTimeString('en-GB');
}

export function fmtAgo(t) {
  if (!t) return 'never';
  const s = Math.round((Date.now() - new Date(t).getTime()) / 1000);
  if (s < 5) return 'just now';
  if (s < 60) return s + ' s ago';
  if (s < 3600) return Math.round(s / 60) + ' min ago';
  return fmtTime(t);
}

export const CATEGORY_NAMES = {
  wanted_on_warrant: 'Wanted on warrant',
  wanted_for_offence: 'Wanted for an offence',
  missing: 'Missing person',
  vulnerable: 'Vulnerable person',
  other: 'Other',
};

export const OUTCOME_NAMES = {
  engaged: 'Engaged',
  arrested: 'Arrested',
  no_further_action: 'No further action',
  mistaken_identity: 'Mistaken identity',
};

export function categoryName(c, other) {
  if (!c) return '—';
  const n = CATEGORY_NAMES[c] || c;
  return c === 'other' && other ? n + ': ' + other : n;
}

// A short two-tone alert sound made on the spot (no sound file to fetch).
let audioCtx = null;
export function unlockAudio() {
  try {
    if (!audioCtx) audioCtx = new (window.AudioContext || window.webkitAudioContext)();
    if (audioCtx.state === 'suspended') audioCtx.resume();
  } catch { /* no audio */ }
}
export function beep() {
  try {
    unlockAudio();
    if (!audioCtx) return;
    const t0 = audioCtx.currentTime;
    for (const [i, f] of [[0, 880], [1, 660], [2, 880]]) {
      const o = audioCtx.createOscillator(), g = audioCtx.createGain();
      o.frequency.value = f;
      o.type = 'square';
      g.gain.setValueAtTime(0.0001, t0 + i * 0.18);
      g.gain.exponentialRampToValueAtTime(0.25, t0 + i * 0.18 + 0.02);
      g.gain.exponentialRampToValueAtTime(0.0001, t0 + i * 0.18 + 0.16);
      o.connect(g).connect(audioCtx.destination);
      o.start(t0 + i * 0.18);
      o.stop(t0 + i * 0.18 + 0.17);
    }
  } catch { /* no audio */ }
}

// A likeness (0-100, the server's calibrated reading of the score) as text.
export function fmtLikeness(x) {
  if (x === null || x === undefined) return '—';
  return Math.round(x) + '%';
}

export function announce(region, text) {
  // a polite live region: screen readers say it without moving focus
  region.textContent = '';
  setTimeout(() => { region.textContent = text; }, 30);
}
