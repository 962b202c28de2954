// flow.test.mjs - the van console and the officers' app in a real browser
// (Debian's Chromium driven by playwright-core) against a real
// `openlfr serve` started by tests/test_web.sh, which passes:
//   BASE_URL   https://127.0.0.1:PORT
//   PASSWORD   every account's password (admin, op1, auth1, aud1, pc1)
//   FACE       a photo of the watchlisted face (one face)
//   REJECT     a photo enrolment must refuse (three faces)
//   WARNED     a photo enrolment takes only with a reason (quality warnings)
//   OTHER      one face of someone else (refused as a listed person's second photo)
//   SECOND     the face darker and blurred: a second photo of the listed person
//              (not the same photograph to the engine; quality warnings)
//   CLIP       a clip showing the watchlisted face (file camera)
//   SHOTS      where the screenshots go
// It also launches a second Chromium whose camera is a clip FFmpeg makes of
// the console's pairing QR code (--use-file-for-fake-video-capture), to scan
// the code in the app.
// Prints one line per check and closes with "N passed, M failed".
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { execFileSync } from 'node:child_process';
import os from 'node:os';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const { BASE_URL, PASSWORD, FACE, REJECT, CLIP, SHOTS, WARNED, OTHER, SECOND } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(SHOTS, { recursive: true });

let passed = 0, failed = 0;
function ok(cond, what, detail) {
  if (cond) { passed++; console.log('ok   ' + what); }
  else { failed++; console.log('FAIL ' + what + (detail ? ': ' + detail : '')); }
  return cond;
}
async function step(what, fn) {
  try { await fn(); ok(true, what); return true; }
  catch (e) {
    for (const [n, p] of [['op', op], ['app', app]]) await p.screenshot({ path: path.join(SHOTS, 'FAILED-' + n + '-' + (passed + failed) + '.png'), fullPage: true }).catch(() => {});
    ok(false, what, (e && e.message ? e.message : String(e)).split('\n').slice(0, 6).join(' | ')); return false; }
}

// axe-core on the page as it is: no serious or critical violations.
async function axe(page, name) {
  await page.addScriptTag({ path: AXE });
  const r = await page.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ') + ' :: ' + (n.failureSummary || '').replace(/\s+/g, ' ').slice(0, 160)) }));
  });
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  ok(bad.length === 0, 'axe: ' + name + ' has no serious or critical violations',
    bad.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' @ ' + v.nodes.join(' ; ')).join(' || '));
}

// Every field of a multi-column form stays inside its own column: none
// reaches over the next one (a file input's natural width is wider than a
// column), and the fields of one row share their bottom line.
async function fieldsFit(page, name) {
  const bad = await page.evaluate(() => {
    const out = [], bottoms = new Map();
    for (const l of document.querySelectorAll('form.cols > label:not(.check)')) {
      const f = l.querySelector(':scope > input, :scope > select, :scope > textarea');
      if (!f || !l.offsetParent) continue;
      const a = l.getBoundingClientRect(), b = f.getBoundingClientRect();
      if (b.left < a.left - 1 || b.right > a.right + 1) out.push(f.name + ' spills out of its column (' + Math.round(b.right - a.right) + ' px)');
      // text under a field makes its column taller than the row's others
      // and pushes their fields down: it belongs under the row
      for (let n = f.nextElementSibling; n; n = n.nextElementSibling)
        if (n.offsetParent) out.push(f.name + ' has ' + n.tagName.toLowerCase() + ' "' + n.textContent.slice(0, 40) + '" under it in its label');
      const row = Math.round(a.top);
      if (f.tagName !== 'TEXTAREA') (bottoms.get(row) || bottoms.set(row, []).get(row)).push([f.name, Math.round(b.bottom)]);
    }
    for (const fs of bottoms.values())
      if (fs.some(([, y]) => Math.abs(y - fs[0][1]) > 1)) out.push('a row of fields is ragged: ' + JSON.stringify(fs));
    return out;
  });
  ok(bad.length === 0, name + ': every field fits its column, rows aligned', bad.join('; '));
}

// The panels of a deployment's screen stand apart: each block after the
// first starts at least 8 px below the one before it (they once touched).
async function panelsApart(page, name) {
  const touching = await page.evaluate(() => {
    const out = [];
    const kids = [...document.querySelectorAll('.dep-body > .panel, .dep-body > .grid')];
    for (let i = 1; i < kids.length; i++) {
      const a = kids[i - 1].getBoundingClientRect(), b = kids[i].getBoundingClientRect();
      if (b.top - a.bottom < 8) out.push((kids[i].querySelector('h2') || kids[i]).textContent.trim().slice(0, 40) + ' (' + Math.round(b.top - a.bottom) + ' px)');
    }
    return out;
  });
  ok(touching.length === 0, name + ': panels stand apart', 'touching the one above: ' + touching.join('; '));
}

async function shot(page, name) {
  // animations: 'disabled' ends the new-alert pulse, so a screenshot shows
  // the screen as it rests rather than a frame of the animation
  await page.screenshot({ path: path.join(SHOTS, name + '.png'), fullPage: true, animations: 'disabled' });
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run',
    '--disable-background-networking', '--disable-component-update', '--disable-sync',
    '--autoplay-policy=no-user-gesture-required'],
});
const T = 20000;
const ctxOpts = { ignoreHTTPSErrors: true, baseURL: BASE_URL };
const opCtx = await browser.newContext({ ...ctxOpts, viewport: { width: 1440, height: 1000 } });
const authCtx = await browser.newContext({ ...ctxOpts, viewport: { width: 1280, height: 900 } });
const phone = await browser.newContext({ ...ctxOpts, viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true });
const op = await opCtx.newPage();
const au = await authCtx.newPage();
const app = await phone.newPage();
for (const [n, p] of [['console(op)', op], ['console(auth)', au], ['app', app]]) {
  p.on('pageerror', (e) => console.log('  [' + n + ' page error] ' + e.message));
  p.setDefaultTimeout(T);
  p.on('response', async (r) => {
    if (r.url().includes('/api/') && r.status() >= 400 && !r.url().endsWith('/api/session'))
      console.log('  [' + n + '] ' + r.request().method() + ' ' + r.url().replace(BASE_URL, '') + ' -> ' + r.status() + ' ' + (await r.text().catch(() => '')).slice(0, 200));
  });
}

async function signIn(page, login) {
  await page.goto('/console/#/login');
  await page.getByLabel('Login name').fill(login);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Deployments' }).waitFor();
}

let depId = 0, code = '', otherDep = 0;
let newThreshold = '';  // the console's threshold text for the default set (fmtThreshold)
let fatal = false;

// 1. console: sign in, create
await step('console: the sign-in screen', async () => {
  await op.goto('/console/');
  await op.getByRole('heading', { name: 'Sign in to the van console' }).waitFor();
  await axe(op, 'console sign-in');
  await shot(op, 'console-01-sign-in');
});
await step('console: a wrong password is refused with the server\'s sentence', async () => {
  await op.getByLabel('Login name').fill('op1');
  await op.getByLabel('Password').fill('not the password');
  await op.getByRole('button', { name: 'Sign in' }).click();
  await op.locator('#login-error').filter({ hasText: /./ }).waitFor();
});
fatal = !await step('console: operator signs in', async () => { await signIn(op, 'op1'); });
if (!fatal) await step('console: the new deployment\'s threshold is the default model set\'s own (from /api/health)', async () => {
  const hr = await op.request.get('/api/health');
  const nd = (await hr.json()).new_deployment;
  const v = await op.getByLabel('Alert threshold').inputValue();
  if (Math.abs(parseFloat(v) - nd.threshold) > 5e-4) throw new Error('form proposes ' + v + ', the van says ' + nd.threshold + ' for ' + nd.model_set);
  const t3 = nd.threshold.toFixed(3);
  newThreshold = t3.endsWith('0') ? t3.slice(0, -1) : t3;
  await op.getByText('Model set ' + nd.model_set + ': default ' + newThreshold).waitFor();
});
if (!fatal) fatal = !await step('console: operator creates a deployment', async () => {
  await op.getByLabel('Name', { exact: true }).fill('High Street, Saturday');
  await op.getByLabel('Location').fill('High Street, north end');
  await op.getByLabel(/Purpose/).fill('Find people wanted on warrant for violent offences');
  await op.getByLabel('Legal basis').fill('Common law policing powers; force LFR policy');
  await axe(op, 'console deployments');
  await fieldsFit(op, 'console deployments');
  await shot(op, 'console-02-deployments');
  await op.getByRole('button', { name: 'Create deployment' }).click();
  await op.waitForURL(/#\/d\/\d+\/setup/);
  depId = parseInt(op.url().match(/#\/d\/(\d+)/)[1], 10);
});

// 2. set-up: cameras, watchlist with one rejected image
if (!fatal) fatal = !await step('console: two file cameras added; a redraw while typing keeps what was typed', async () => {
  for (const name of ['North entrance', 'South entrance']) {
    await op.getByLabel('Camera name').fill(name);
    await op.getByLabel(/^Source/).fill(CLIP);
    if (name === 'North entrance') {
      // an event redraws the screen on show (deployment.state): the same
      // route drawn again, here without the event's timing
      const old = await op.getByLabel('Camera name').elementHandle();
      await op.evaluate(() => window.dispatchEvent(new HashChangeEvent('hashchange')));
      await op.waitForFunction((e) => !e.isConnected, old);
      await op.getByRole('button', { name: 'Add camera' }).waitFor();
      // the screen is whole (the watchlist drawn below the cameras) and what
      // was typed is back: <main> is busy until then
      await op.waitForFunction(() => !document.querySelector('main[aria-busy]'));
      const kept = [await op.getByLabel('Camera name').inputValue(), await op.getByLabel(/^Source/).inputValue()];
      if (kept[0] !== name || kept[1] !== CLIP) throw new Error('after a redraw the form holds ' + JSON.stringify(kept));
    }
    await op.getByRole('button', { name: 'Add camera' }).click();
    await op.getByText(name + ' (added by op1)').waitFor();
    const left = await op.getByLabel('Camera name').inputValue();
    if (left !== '') throw new Error('the form still holds ' + JSON.stringify(left) + ' after the camera was added');
  }
});
async function fillEntry(file, ref, name) {
  await op.locator('input[name=image]').setInputFiles(file);
  await op.getByLabel(/Subject reference/).fill(ref);
  await op.getByLabel('Name as shown to operators').fill(name);
  await op.locator('select[name=category]').selectOption('wanted_on_warrant');
  await op.getByLabel('Reason for inclusion').fill('Warrant 2024/118 for assault; may be violent');
  await op.getByLabel('Image source').fill('Custody record');
  await op.getByLabel(/Image date/).fill('2024-03-02');
  await op.getByRole('button', { name: 'Add to watchlist' }).click();
}
if (!fatal) await step('console: an image with three faces is rejected, its reason and measured values visible', async () => {
  await fillEntry(REJECT, 'GROUP-1', 'Group photo');
  const box = op.locator('.reject');
  await box.waitFor();
  const t = await box.innerText();
  if (!/multiple faces/i.test(t) || !/3 faces found/.test(t) || !/Eye distance/.test(t)) throw new Error('rejection shows: ' + t);
  // only what was measured: no aligned face, so no sharpness or pose (not zeros)
  if (/Sharpness|Yaw/.test(t)) throw new Error('rejection shows measures never taken: ' + t);
  await axe(op, 'console set-up with a rejection');
  await fieldsFit(op, 'console set-up');
  await shot(op, 'console-03-setup-rejected');
});
if (!fatal) fatal = !await step('console: the watchlisted face is accepted', async () => {
  await fillEntry(FACE, 'WR-2024-118', 'Sam Example');
  await op.locator('.accepted').waitFor();
  await op.getByRole('cell', { name: 'WR-2024-118' }).waitFor();
});

if (!fatal && OTHER && SECOND) await step('console: another photo of a listed person: the same photo again and someone else are refused, a darker photo added with a reason', async () => {
  const form = op.getByRole('form', { name: 'Another photo of Sam Example' });
  const pick = async (file) => {
    if (!await form.isVisible()) await op.getByText('Add photo', { exact: true }).click();
    await form.getByLabel('Another photo of Sam Example').setInputFiles(file);
    await form.getByLabel('Image source').fill('Custody record, second arrest');
    await form.getByLabel('Image date').fill('2025-01-10');
    await form.getByRole('button', { name: 'Add this photo' }).click();
  };
  const refused = async (file, re) => {
    await pick(file);
    const no = op.locator('#photo-result .reject');
    await no.waitFor();
    const t = await no.innerText();
    if (!re.test(t)) throw new Error(file + ' refusal shows: ' + t);
  };
  await refused(FACE, /same photo[\s\S]*already has this photo/i);
  await refused(OTHER, /not same person[\s\S]*does not look like the entry's 1 photo \(cosine/i);
  await pick(SECOND);
  await op.locator('#photo-result .warned').waitFor();
  await op.locator('#photo-result').getByLabel(/Your reason for accepting these warnings/).fill('The only photo from this year');
  await op.locator('#photo-result').getByRole('button', { name: 'Accept the warnings and add' }).click();
  const yes = op.locator('#photo-result .accepted');
  await yes.waitFor();
  const u = await yes.innerText();
  if (!/now has 2 photos and is matched by their mean/.test(u)) throw new Error('added shows: ' + u);
  // the list is drawn again: the entry says it has two photos, the
  // accepted warnings are listed for the authoriser, and the threshold
  // counts the entry for more than one comparison
  await op.getByRole('cell', { name: /2 photos, matched by their mean/ }).waitFor();
  await op.getByText('1 of 2 photos with warnings; the first:').waitFor();
  const th = await op.locator('section', { has: op.getByRole('heading', { name: 'Authorisation and running' }) }).innerText();
  if (!/matched by the mean of their photos, which resembles strangers more often, so these count as \d+ comparisons/.test(th)) throw new Error('threshold text: ' + th.slice(0, 600));
  if (!/Entries enrolled with quality warnings \(1\)/.test(th) || !/The only photo from this year/.test(th)) throw new Error('warnings for the authoriser: ' + th.slice(0, 600));
  // each photo with where it came from, when, who added it and the
  // warnings accepted: opened from the entry's row
  await op.locator('details.photos summary', { hasText: 'Each photo' }).first().click();
  const photos = op.locator('ol.photos li');
  await op.waitForFunction(() => [...document.querySelectorAll('ol.photos img')].length === 2 &&
    [...document.querySelectorAll('ol.photos img')].every((i) => i.naturalWidth > 0), null, { timeout: 15000 });
  const second = await photos.nth(1).innerText();
  if (!/Custody record, second arrest, 2025-01-10/.test(second) || !/added by op1/.test(second) || !/accepted by op1: "The only photo from this year"/.test(second))
    throw new Error('the second photo says: ' + second);
  await panelsApart(op, 'set-up');
  await shot(op, 'console-03b-add-photo');
  await axe(op, 'console set-up after adding a photo');
});

// 3. authorise as another account
if (!fatal) fatal = !await step('console: the creator cannot authorise; another authorising officer sees what is authorised and does', async () => {
  await signIn(au, 'auth1');
  await au.goto('/console/#/d/' + depId + '/setup');
  await au.getByRole('heading', { name: 'What would be authorised' }).waitFor();
  const txt = await au.locator('section', { has: au.getByRole('heading', { name: 'Authorisation and running' }) }).innerText();
  if (!/Wanted on warrant\s+1/.test(txt) || !/Under-18 entries \(0\)/.test(txt) || !txt.includes('Threshold ' + newThreshold)) throw new Error('authorise panel: ' + txt.slice(0, 400));
  // the authorising officer is told that adding to the list makes it another's to authorise
  const note = await au.locator('#auth-builds-note').innerText();
  if (!/another authorising officer must authorise this deployment/.test(note)) throw new Error('authoriser note: ' + note);
  if (await op.locator('#auth-builds-note').count()) throw new Error('the operator is shown the authoriser\'s note');
  await axe(au, 'console authorise');
  await shot(au, 'console-04-authorise');
  await au.getByRole('button', { name: 'Authorise this deployment' }).click();
  await au.getByRole('button', { name: 'Start the deployment' }).waitFor();
});

// 4. pair the officer's device (app, phone viewport)
if (!fatal) fatal = !await step('console: a pairing code with its QR code', async () => {
  await op.goto('/console/#/d/' + depId + '/devices');
  await op.getByRole('button', { name: 'New pairing code' }).click();
  code = (await op.locator('#pair-code').innerText()).trim();
  await op.locator('.qr svg').waitFor();
  if (!/^[A-Z2-9]{8}$/.test(code)) throw new Error('code ' + code);
  await axe(op, 'console devices');
  await shot(op, 'console-05-pair');
});
if (!fatal) await step('app: the QR code scanned with the (fake) camera fills in the code', async () => {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'lfr_qr_'));
  const png = path.join(tmp, 'qr.png'), y4m = path.join(tmp, 'qr.y4m');
  await op.locator('.qr').screenshot({ path: png });
  execFileSync('ffmpeg', ['-loglevel', 'error', '-y', '-loop', '1', '-i', png, '-t', '2', '-r', '10',
    '-vf', 'scale=400:400:flags=neighbor,pad=640:480:(ow-iw)/2:(oh-ih)/2:white,format=yuv420p', y4m]);
  const cam = await chromium.launch({
    executablePath: CHROMIUM,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--use-fake-ui-for-media-stream',
      '--use-fake-device-for-media-stream', '--use-file-for-fake-video-capture=' + y4m],
  });
  try {
    const ctx = await cam.newContext({ ...ctxOpts, viewport: { width: 390, height: 844 }, isMobile: true, hasTouch: true, permissions: ['camera'] });
    const pg = await ctx.newPage();
    pg.setDefaultTimeout(T);
    await pg.goto('/app/');
    const native = await pg.evaluate(async () => 'BarcodeDetector' in window && (await window.BarcodeDetector.getSupportedFormats()).includes('qr_code'));
    console.log('  (decoder: ' + (native ? 'BarcodeDetector' : 'jsQR, vendored') + ')');
    await pg.getByRole('button', { name: 'Scan the QR code' }).click();
    await pg.waitForFunction((c) => document.getElementById('code').value === c, code);
    await pg.locator('#scan-status', { hasText: 'Code read from the QR code' }).waitFor();
    await axe(pg, 'app pairing after a scan');
    await shot(pg, 'app-00-qr-scanned');
    await ctx.close();
  } finally {
    await cam.close();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
});
if (!fatal) fatal = !await step('app: pair with the code and sign in (phone viewport)', async () => {
  await app.goto('/app/');
  await app.getByRole('heading', { name: '1. Pair this device' }).waitFor();
  const pill = await app.locator('#conn').innerText();
  if (pill !== 'Not paired') throw new Error('an unpaired device\'s connection pill says ' + JSON.stringify(pill));
  await axe(app, 'app pairing');
  await shot(app, 'app-01-pair');
  await app.getByLabel('Pairing code').fill(code.toLowerCase().slice(0, 4) + '-' + code.slice(4));
  await app.getByLabel(/Name for this device/).fill('PC One phone');
  await app.getByLabel('Your login').fill('pc1');
  await app.getByLabel('Password').fill(PASSWORD);
  await app.getByRole('button', { name: 'Pair and sign in' }).click();
  await app.getByRole('heading', { name: 'Alerts' }).waitFor();
  await app.locator('#conn', { hasText: 'Connected' }).waitFor();
  await axe(app, 'app alerts (empty)');
});
if (!fatal) await step('app: installable (manifest, service worker caching the shell only)', async () => {
  const m = await app.evaluate(async () => (await fetch('/app/manifest.webmanifest')).json());
  if (m.display !== 'standalone' || !m.icons.length) throw new Error('manifest');
  const sw = await app.evaluate(async () => (await fetch('/app/sw.js')).text());
  if (!/never images/i.test(sw)) throw new Error('sw');
});

// 5. start; an alert arrives live on the console
// The operator waits on the overview: the new alert's link floats over that
// screen; it leads to the queue, where no such link covers the review.
if (!fatal) await op.goto('/console/#/d/' + depId);
if (!fatal) fatal = !await step('console: start, and an alert arrives live with both faces', async () => {
  await op.locator('#conn', { hasText: 'live' }).waitFor();
  await au.getByRole('button', { name: 'Start the deployment' }).click();
  await au.getByText('Started: the cameras are running.').waitFor();
  const cue = op.locator('a.newalert');
  await cue.waitFor({ timeout: 90000 });
  if (!/^New alert: Sam Example on (North|South) entrance/.test(await cue.innerText())) throw new Error('cue: ' + await cue.innerText());
  await cue.click();
  await op.getByRole('heading', { name: 'Queue' }).waitFor();
  await op.getByRole('heading', { name: /Alert #\d+: Sam Example/ }).waitFor();
  // both cameras' alerts are in the queue, and no link floats over the review
  await op.waitForFunction(() => document.querySelectorAll('.queue li').length >= 2, null, { timeout: 60000 });
  if (await op.locator('a.newalert').count()) throw new Error('a new-alert link covers the alert queue');
  await op.waitForFunction(() => {
    const a = document.getElementById('live-face'), b = document.getElementById('wl-face');
    return a && b && a.naturalWidth > 0 && b.naturalWidth > 0;
  });
  const facts = await op.locator('.review').innerText();
  if (!/Wanted on warrant/.test(facts) || !/Warrant 2024\/118/.test(facts) || !/North entrance|South entrance/.test(facts)) throw new Error(facts.slice(0, 300));
  // what matched, on the review and on the queue's card
  const matched = await op.locator('#alert-matched').innerText();
  // Sam Example has two photos when a second was added above: the alert
  // came from their mean, and says so beside what matched live
  const two = OTHER && SECOND;
  const live = '(best shot|track template \\([2-8] frames\\))';
  if (!new RegExp('^' + live + (two ? ', against the mean of the entry\'s 2 photos' : '') + '$').test(matched)) throw new Error('the review says matched: ' + JSON.stringify(matched));
  const card = await op.locator('.queue li button[aria-current="true"] .matched').innerText();
  if (!new RegExp('^matched: ' + live + (two ? ', mean of 2 photos' : '') + '$').test(card)) throw new Error('alert card says ' + JSON.stringify(card));
  await axe(op, 'console alert review');
  // the badge on the deployment's link counts its alerts awaiting a decision
  const waitingCards = await op.locator('.queue li', { hasText: 'awaiting decision' }).count();
  const badge = await op.locator('#nav-badge').evaluate((b) => (b.hidden ? 0 : parseInt(b.textContent, 10)));
  if (!waitingCards || badge !== waitingCards) throw new Error('badge ' + badge + ', queue cards awaiting a decision ' + waitingCards);
  await shot(op, 'console-06-alert-review');
  // on a laptop (1366x768) both faces and Confirm / Reject are in view
  // without scrolling
  await op.setViewportSize({ width: 1366, height: 768 });
  try {
    await op.evaluate(() => window.scrollTo(0, 0));
    const fit = await op.evaluate(() => ['live-face', 'wl-face', 'confirm', 'reject'].map((id) => {
      const r = document.getElementById(id).getBoundingClientRect();
      return [id, Math.round(r.top), Math.round(r.bottom)];
    }));
    if (fit.some(([, t, b]) => t < 0 || b > 768)) throw new Error('at 1366x768, not all in view without scrolling: ' + JSON.stringify(fit));
    await op.screenshot({ path: path.join(SHOTS, 'console-06b-alert-review-laptop.png'), animations: 'disabled' });
  } finally {
    await op.setViewportSize({ width: 1440, height: 1000 });
  }
});
let firstAlert = 0;
if (!fatal) fatal = !await step('console: confirm with the keyboard (C) and a note, then dispatch to all', async () => {
  await op.locator('#dispatch').waitFor({ state: 'detached' }).catch(() => {});
  if (await op.locator('#dispatch').count()) throw new Error('dispatch offered before a decision');
  firstAlert = parseInt((await op.getByRole('heading', { name: /Alert #\d+/ }).innerText()).match(/#(\d+)/)[1], 10);
  await op.locator('#note').fill('Same scar above the left eye');
  await op.locator('#note').press('Escape');
  await op.keyboard.press('c');
  await op.locator('#dispatch').waitFor();
  await op.locator('#dispatch').click();
  await op.getByText(/Dispatched .* to every device/).waitFor();
});

// 6. the app receives it, records an outcome, seen on the console
if (!fatal) await step('app: the dispatched alert arrives live with both images and the note', async () => {
  const card = app.locator('#alert-' + firstAlert);
  await card.waitFor();
  await app.waitForFunction((id) => [...document.querySelectorAll('#alert-' + id + ' img')].every((i) => i.naturalWidth > 0), firstAlert);
  const t = await card.innerText();
  if (!/Same scar above the left eye/.test(t) || !/Likeness/.test(t)) throw new Error(t.slice(0, 300));
  if (!/Sam Example/.test(t) || !/Wanted on warrant/.test(t) || !/Warrant 2024\/118/.test(t)) throw new Error('name, category or reason missing: ' + t.slice(0, 300));
  // a likeness from the mean of two photos says so
  if (OTHER && SECOND && !/Likeness \d+% \(mean of 2 watchlist photos\)/.test(t)) throw new Error('the likeness does not say it came from the mean of 2 photos: ' + t.slice(0, 300));
  await axe(app, 'app alert card');
  await shot(app, 'app-02-alert');
  await app.evaluate(() => window.scrollTo(0, 0));
  await app.screenshot({ path: path.join(SHOTS, 'app-02-alert-screen.png'), animations: 'disabled' });   // what the phone shows
});
if (!fatal) await step('app: acknowledge and record an outcome; the console sees it live', async () => {
  const card = app.locator('#alert-' + firstAlert);
  await card.getByRole('button', { name: 'Acknowledge' }).click();
  await card.getByText('Acknowledged').waitFor();
  await card.getByRole('button', { name: 'Arrested' }).click();
  await card.getByLabel('Note (what happened)').fill('Detained at the bus stop; identity confirmed by PNC');
  await card.getByRole('button', { name: 'Record outcome' }).click();
  await card.getByText(/Outcome: Arrested/).waitFor();
  await op.locator('#alert-outcome', { hasText: 'Arrested' }).waitFor();
});

if (!fatal) await step('app: what a device gets is its own deployment\'s only; no live view for devices', async () => {
  // a second deployment, created by the operator through the API
  const other = await op.evaluate(async () => {
    const t = sessionStorage.getItem('openlfr.console.token');
    const now = Math.floor(Date.now() / 1000);
    const r = await fetch('/api/deployments', { method: 'POST', headers: { Authorization: 'Bearer ' + t, 'Content-Type': 'application/json' },
      body: JSON.stringify({ name: 'Another place', location: 'Elsewhere', purpose: 'Another purpose', legal_basis: 'Policy', start: now, end: now + 3600, threshold: 0.7 }) });
    return (await r.json()).id;
  });
  otherDep = other;
  const cams = await op.evaluate(async (dep) => {
    const t = sessionStorage.getItem('openlfr.console.token');
    return (await (await fetch('/api/deployments/' + dep + '/cameras', { headers: { Authorization: 'Bearer ' + t } })).json()).cameras;
  }, depId);
  const r = await app.evaluate(async ({ alert, other, cam }) => {
    const t = JSON.parse(localStorage.getItem('openlfr.device')).token;
    const get = async (u) => { const x = await fetch(u, { headers: { Authorization: 'Bearer ' + t } }); return { status: x.status, body: await x.text() }; };
    return { alert: await get('/api/alerts/' + alert), other: await get('/api/deployments/' + other + '/alerts'),
      preview: await get('/api/cameras/' + cam + '/preview'), stats: await get('/api/deployments/' + other + '/camera-stats') };
  }, { alert: firstAlert, other, cam: cams[0].id });
  const a = JSON.parse(r.alert.body);
  if (r.alert.status !== 200 || a.display_name !== 'Sam Example' || a.category !== 'wanted_on_warrant' || !/Warrant 2024\/118/.test(a.reason) ||
      a.face_image_url !== '/api/alerts/' + firstAlert + '/image' || !/^\/api\/watchlist\/images\/\d+$/.test(a.watchlist_image_url) ||
      !((a.source === 'best_shot' && a.template_n === 1) || (a.source === 'track_template' && a.template_n >= 2))) throw new Error('alert as the device sees it: ' + r.alert.body.slice(0, 400));
  if (r.other.status !== 403) throw new Error('another deployment\'s alerts: ' + r.other.status + ' ' + r.other.body.slice(0, 200));
  if (r.preview.status !== 403) throw new Error('a device got the live view: ' + r.preview.status);
  if (r.stats.status !== 403) throw new Error('a device got camera figures: ' + r.stats.status);
});

if (!fatal && otherDep && WARNED) await step('console: a photo with quality warnings is enrolled only with a reason, which the authorising screen shows', async () => {
  await op.goto('/console/#/d/' + otherDep + '/setup');
  // the badge on this deployment's link does not count the other's alerts
  const waiting = await op.evaluate(async (dep) => {
    const t = sessionStorage.getItem('openlfr.console.token');
    const r = await (await fetch('/api/deployments/' + dep + '/alerts', { headers: { Authorization: 'Bearer ' + t } })).json();
    return (r.alerts || []).filter((a) => !a.decision).length;
  }, depId);
  await op.getByRole('link', { name: 'Deployment ' + otherDep }).waitFor();
  const badge = await op.locator('#nav-badge').evaluate((b) => (b.hidden ? 0 : parseInt(b.textContent, 10)));
  if (badge !== 0) throw new Error('the badge on deployment ' + otherDep + ' says ' + badge + ' (deployment ' + depId + ' has ' + waiting + ' waiting)');
  if (!waiting) console.log('  (note: deployment ' + depId + ' had no alert waiting here, so the badge check above could not fail)');
  await fillEntry(WARNED, 'MP-2025-7', 'Alex Dim');
  const box = op.locator('.warned');
  await box.waitFor();
  const t = await box.innerText();
  if (!/brightness/i.test(t)) throw new Error('warnings shown: ' + t.slice(0, 300));
  await axe(op, 'console set-up with quality warnings');
  await shot(op, 'console-12-quality-warnings');
  await op.getByLabel(/Your reason for accepting/).fill('The only photo on record; taken in custody in poor light');
  await op.getByRole('button', { name: 'Accept the warnings and add' }).click();
  await op.getByRole('cell', { name: 'MP-2025-7' }).waitFor();
  await op.getByText(/Accepted by op1: The only photo on record/).waitFor();
  await au.goto('/console/#/d/' + otherDep + '/setup');
  await au.getByRole('heading', { name: 'Entries enrolled with quality warnings (1)' }).waitFor();
  await au.getByText(/Alex Dim \(MP-2025-7\)/).waitFor();
  await axe(au, 'console authorise with quality warnings');
  await shot(au, 'console-13-authorise-warnings');
});

// 7. photo check with a file
if (!fatal) await step('app: photo check with a file shows the candidate and the warning', async () => {
  await app.getByRole('tab', { name: 'Photo check' }).click();
  await app.locator('#pick').setInputFiles(FACE);
  await app.getByLabel('Reason for the check').selectOption('matches_description');
  await axe(app, 'app photo check');
  await app.getByRole('button', { name: 'Check this photo' }).click();
  await app.locator('#check-result').waitFor({ timeout: 60000 });
  const t = await app.locator('#check-answer').innerText();
  if (!/Possible match/.test(t) || !/Sam Example/.test(t) || !/Only this deployment's watchlist was searched/.test(t)) throw new Error(t.slice(0, 300));
  await app.waitForFunction(() => [...document.querySelectorAll('#check-answer img')].every((i) => i.naturalWidth > 0));
  await axe(app, 'app photo check answer');
  await shot(app, 'app-03-check-answer');
  await app.locator('#check-answer').evaluate((e) => e.scrollIntoView({ block: 'start' }));
  await app.screenshot({ path: path.join(SHOTS, 'app-03-check-answer-screen.png'), animations: 'disabled' });
  await op.goto('/console/#/d/' + depId + '/checks');
  // the officer's reason in words, as the app offered it
  await op.getByRole('cell', { name: 'Matches a description', exact: true }).waitFor();
  await axe(op, 'console photo checks');
  await shot(op, 'console-07-checks');
});

// 8. drop and restore the connection: the missed alert arrives
if (!fatal) await step('app: offline, an alert is dispatched, back online: the missed alert arrives', async () => {
  await app.getByRole('tab', { name: 'Alerts' }).click();
  await op.goto('/console/#/d/' + depId + '/alerts');
  // a second alert (the other camera) to dispatch while the phone is away
  const other = op.locator('.queue button').filter({ hasText: 'awaiting decision' }).first();
  await other.waitFor({ timeout: 90000 });
  await phone.setOffline(true);
  await app.locator('#conn', { hasText: 'No connection' }).waitFor();
  await shot(app, 'app-04-offline');
  await other.click();
  const second = parseInt((await op.getByRole('heading', { name: /Alert #\d+/ }).innerText()).match(/#(\d+)/)[1], 10);
  await op.locator('#confirm').click();
  await op.locator('#dispatch').click();
  await op.getByText(/Dispatched .* to every device/).waitFor();
  await app.waitForTimeout(1500);
  if (await app.locator('#alert-' + second).count()) throw new Error('arrived while offline?');
  await phone.setOffline(false);
  await app.locator('#alert-' + second).waitFor();
  await app.locator('#conn', { hasText: 'Connected' }).waitFor();
});

// 9. overview and audit
if (!fatal) await step('console: deployment overview (state, threshold meaning, cameras, devices)', async () => {
  await op.goto('/console/#/d/' + depId);
  await op.getByRole('heading', { name: 'What the threshold means' }).waitFor();
  await op.getByRole('rowheader', { name: 'North entrance' }).waitFor();
  await op.getByRole('rowheader', { name: 'PC One phone' }).waitFor();
  // analysed fps and drops from the pipeline, refreshed live
  await op.waitForFunction(() => [...document.querySelectorAll('#camera-stats td.fps')].some((td) => parseFloat(td.textContent) > 0), null, { timeout: 30000 });
  const drops = await op.locator('#camera-stats td.drops').allInnerTexts();
  if (!drops.length || drops.some((x) => !/^\d+$/.test(x))) throw new Error('drops: ' + drops.join(','));
  await op.locator('#camera-stats .pill-ok', { hasText: /^live$/ }).first().waitFor();
  // the settings the server runs the cameras with (its defaults here)
  const set = await op.locator('#camera-settings').innerText();
  if (!/every 2 frames/.test(set) || !/up to 4 frames wait per camera/.test(set) || !/within 30 s/.test(set))
    throw new Error('camera settings: ' + set);
  await axe(op, 'console overview');
  await panelsApart(op, 'overview');
  await shot(op, 'console-08-overview');
});
if (!fatal) await step('console: live view of the cameras, faces boxed, never cached', async () => {
  const resp = op.waitForResponse((r) => r.url().includes('/preview') && r.status() === 200, { timeout: 30000 });
  await op.goto('/console/#/d/' + depId + '/cameras');
  await op.getByRole('heading', { name: 'North entrance' }).waitFor();
  const r = await resp;
  if (!/no-store/.test(r.headers()['cache-control'] || '')) throw new Error('Cache-Control: ' + r.headers()['cache-control']);
  if (r.headers()['content-type'] !== 'image/jpeg') throw new Error('type ' + r.headers()['content-type']);
  await op.waitForFunction(() => [...document.querySelectorAll('img.live-img')].every((i) => i.naturalWidth > 0), null, { timeout: 30000 });
  // boxes: green (a face) or red (matched) pixels in a frame, within a few refreshes
  await op.waitForFunction(() => [...document.querySelectorAll('img.live-img')].some((img) => {
    const c = document.createElement('canvas');
    c.width = img.naturalWidth; c.height = img.naturalHeight;
    const g = c.getContext('2d');
    g.drawImage(img, 0, 0);
    const d = g.getImageData(0, 0, c.width, c.height).data;
    let n = 0;
    for (let i = 0; i < d.length; i += 4) {
      if ((d[i + 1] > 180 && d[i] < 70 && d[i + 2] < 70) || (d[i] > 200 && d[i + 1] < 70 && d[i + 2] < 70)) n++;
    }
    return n > 50;
  }), null, { timeout: 30000, polling: 1000 });
  const w = await op.evaluate(() => Math.max(...[...document.querySelectorAll('img.live-img')].map((i) => Math.max(i.naturalWidth, i.naturalHeight))));
  if (w > 640) throw new Error('live view frame ' + w + ' px');
  await op.locator('.live-cap', { hasText: 'fps analysed' }).first().waitFor();
  await axe(op, 'console live view');
  await shot(op, 'console-10-live-view');
});
await step('console: the auditor verifies the chain and browses records, no images', async () => {
  const audCtx = await browser.newContext({ ...ctxOpts, viewport: { width: 1280, height: 900 } });
  const ad = await audCtx.newPage();
  await signIn(ad, 'aud1');
  await ad.goto('/console/#/audit');
  await ad.getByRole('button', { name: 'Verify the chain' }).click();
  await ad.getByText(/The chain is intact/).waitFor();
  await ad.getByLabel('Action contains').fill('alert.');
  await ad.getByRole('button', { name: 'Show records' }).click();
  await ad.getByRole('cell', { name: 'alert.dispatch' }).first().waitFor();
  if (await ad.locator('img').count()) throw new Error('an image on the audit page');
  await axe(ad, 'console audit');
  await shot(ad, 'console-09-audit');
  await audCtx.close();
});
await step('console: the auditor makes a signed checkpoint, downloads its file and sees its QR code made on the van', async () => {
  const audCtx = await browser.newContext({ ...ctxOpts, viewport: { width: 1280, height: 900 }, acceptDownloads: true,
    permissions: ['clipboard-read', 'clipboard-write'] });
  const ad = await audCtx.newPage();
  ad.setDefaultTimeout(T);
  await signIn(ad, 'aud1');
  await ad.goto('/console/#/audit');
  await ad.getByRole('heading', { name: 'Signed checkpoints' }).waitFor();
  const key = (await ad.locator('#pubkey').innerText()).trim();
  if (!/^[0-9a-f]{64}$/.test(key)) throw new Error('public key shown: ' + key);
  const cmd = await ad.locator('#verify-cmd').innerText();
  if (cmd.trim() !== 'openlfr audit verify --db COPY --checkpoint FILE --pubkey ' + key) throw new Error('command: ' + cmd);
  await ad.getByRole('button', { name: 'Copy the key' }).click();
  await ad.getByText('Public key copied.').waitFor();
  if ((await ad.evaluate(() => navigator.clipboard.readText())) !== key) throw new Error('the clipboard does not hold the key');
  await ad.getByRole('button', { name: 'Make a checkpoint now' }).click();
  const made = await ad.getByText(/Checkpoint made: record #\d+/).innerText();
  const rec = parseInt(made.match(/#(\d+)/)[1], 10);
  const row = ad.locator('#checkpoint-' + rec);
  await row.getByText('on demand').waitFor();
  await row.getByText('aud1').waitFor();
  const dl = ad.waitForEvent('download');
  await row.getByRole('button', { name: 'Download checkpoint ' + rec }).click();
  const file = await dl;
  if (file.suggestedFilename() !== 'checkpoint-' + rec + '.txt') throw new Error('file name ' + file.suggestedFilename());
  const text = fs.readFileSync(await file.path(), 'utf8');
  if (!text.startsWith('openlfr-checkpoint-v1\n') || !text.includes('pubkey ' + key) || !/\nrecord 1 [0-9a-f]{16}\n/.test(text)) throw new Error('file: ' + text.slice(0, 300));
  await row.getByRole('button', { name: 'Show checkpoint ' + rec + ' as a QR code' }).click();
  await ad.locator('#cp-qr svg path').waitFor();
  const compact = await ad.locator('#cp-qr pre').innerText();
  if (!compact.startsWith('openlfr-checkpoint-v1') || /\nrecord 1 /.test(compact)) throw new Error('compact: ' + compact.slice(0, 300));
  await axe(ad, 'console audit with checkpoints');
  await shot(ad, 'console-14-checkpoints');
  // the transparency report of the deployment, for the auditor
  await ad.goto('/console/#/d/' + (depId || 1));
  await ad.getByRole('heading', { name: 'Transparency report' }).waitFor();
  const pop = audCtx.waitForEvent('page');
  await ad.getByRole('button', { name: 'Open the HTML report' }).click();
  const rp = await pop;
  await rp.waitForLoadState();
  await rp.waitForFunction(() => /^Transparency report: /.test(document.title));
  const title = await rp.title();
  if (depId && title !== 'Transparency report: High Street, Saturday') throw new Error('report title ' + title);
  await rp.close();
  const jd = ad.waitForEvent('download');
  await ad.getByRole('button', { name: 'Download JSON' }).click();
  const j = JSON.parse(fs.readFileSync(await (await jd).path(), 'utf8'));
  if (!j.schema || !j.integrity) throw new Error('JSON report: ' + JSON.stringify(j).slice(0, 200));
  const pd = ad.waitForEvent('download');
  await ad.getByRole('button', { name: 'Download PDF' }).click();
  const pdf = fs.readFileSync(await (await pd).path());
  if (pdf.subarray(0, 5).toString() !== '%PDF-') throw new Error('PDF starts ' + pdf.subarray(0, 8).toString());
  await axe(ad, 'console overview for the auditor');
  await shot(ad, 'console-15-report-links');
  await audCtx.close();
});

// 10. revoke: the app is locked out at once
if (!fatal) await step('console: revoke the device; the app is locked out and shows nothing', async () => {
  await op.goto('/console/#/d/' + depId + '/devices');
  op.once('dialog', (d) => d.accept());
  await op.getByRole('button', { name: 'Revoke PC One phone' }).click();
  await op.getByText(/revoked by op1/).waitFor();
  await app.getByRole('heading', { name: 'Signed out' }).waitFor();
  if (await app.locator('img').count()) throw new Error('images still shown');
  const stored = await app.evaluate(() => localStorage.getItem('openlfr.device'));
  if (stored) throw new Error('token kept after revocation');
  await axe(app, 'app locked out');
  await shot(app, 'app-05-revoked');
  await app.reload();
  await app.getByRole('heading', { name: '1. Pair this device' }).waitFor();
});

// 11. amendments: proposed by the operator, listed, authorised by another account
if (!fatal) await step('console: a proposed amendment is listed; another account authorises it from the list', async () => {
  await op.goto('/console/#/d/' + depId + '/setup');
  await op.getByLabel('New threshold').fill('0.72');
  const sane = await op.evaluate(async (dep) => {
    const t = sessionStorage.getItem('openlfr.console.token');
    return (await (await fetch('/api/deployments/' + dep, { headers: { Authorization: 'Bearer ' + t } })).json()).threshold_meaning;
  }, depId);
  await op.getByText('A threshold outside ' + sane.sane_min.toFixed(2) + '–' + sane.sane_max.toFixed(2) + ' (').waitFor();
  await op.getByLabel('Why the change is needed').fill('Too many false alerts at the north entrance');
  await op.getByRole('button', { name: 'Propose (step 1 of 2)' }).click();
  await op.getByText(/Amendment \d+ proposed/).waitFor();
  const n = parseInt((await op.getByText(/Amendment \d+ proposed/).innerText()).match(/Amendment (\d+)/)[1], 10);
  await op.locator('#amendment-' + n, { hasText: 'an authorising officer authorises' }).waitFor();
  await au.goto('/console/#/d/' + depId);   // a new hash: the set-up screen is drawn afresh
  await au.goto('/console/#/d/' + depId + '/setup');
  const row = au.locator('#amendment-' + n);
  await row.getByText('threshold to 0.72').waitFor();
  await row.getByText('Too many false alerts at the north entrance').waitFor();
  await axe(au, 'console amendments (pending)');
  await fieldsFit(au, 'console amendments');
  await shot(au, 'console-11-amendment-pending');
  au.once('dialog', (d) => d.accept());
  await row.getByRole('button', { name: 'Authorise amendment ' + n }).click();
  await au.getByText('Amendment ' + n + ' authorised').waitFor();
  await au.getByText('Threshold 0.72').first().waitFor();
  await au.getByText(/Earlier amendments \(1\)/).waitFor();
  if (await au.locator('#amendment-' + n).count()) throw new Error('still listed as pending');
});

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
