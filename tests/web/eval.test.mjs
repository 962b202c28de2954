// eval.test.mjs - the console's evaluation screen (#/eval) in a real browser
// against the `openlfr serve` tests/test_web.sh starts (same variables as
// flow.test.mjs; the server's data is $OPENLFR_DATA, inherited).
//   - an operator has no Evaluation link and is refused on #/eval;
//   - the auditor sees whether the van has data (axe, screenshot);
//   - with data: an evaluation of every 1000th person / image (seconds)
//     started from the form shows its progress, ends done in the list, and
//     its report opens in a new tab from the van (inline SVG charts, no
//     image); a quick run started next is cancelled with its button, and
//     the "Cancelling run N…" banner does not stay once it is cancelled;
//   - the model set offered first (and chosen) is the deployments' default.
//   - without data: the screen says so and the start button is disabled.
// Prints one line per check and closes with "N passed, M failed".
import { chromium } from 'playwright-core';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';

const require = createRequire(import.meta.url);
const AXE = require.resolve('axe-core/axe.min.js');
const { BASE_URL, PASSWORD, SHOTS } = process.env;
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';
fs.mkdirSync(SHOTS, { recursive: true });

let passed = 0, failed = 0;
function ok(cond, what, detail) {
  if (cond) { passed++; console.log('ok   ' + what); }
  else { failed++; console.log('FAIL ' + what + (detail ? ': ' + detail : '')); }
  return cond;
}
let page;
async function step(what, fn) {
  try { await fn(); ok(true, what); return true; }
  catch (e) {
    if (page) await page.screenshot({ path: path.join(SHOTS, 'FAILED-eval-' + (passed + failed) + '.png'), fullPage: true }).catch(() => {});
    ok(false, what, (e && e.message ? e.message : String(e)).split('\n').slice(0, 6).join(' | ')); return false;
  }
}
async function axe(p, name) {
  await p.addScriptTag({ path: AXE });
  const r = await p.evaluate(async () => {
    const res = await window.axe.run(document, { resultTypes: ['violations'] });
    return res.violations.map((v) => ({ id: v.id, impact: v.impact, help: v.help, nodes: v.nodes.slice(0, 3).map((n) => n.target.join(' ')) }));
  });
  const bad = r.filter((v) => v.impact === 'serious' || v.impact === 'critical');
  ok(bad.length === 0, 'axe: ' + name + ' has no serious or critical violations',
    bad.map((v) => v.id + ' (' + v.impact + '): ' + v.help + ' @ ' + v.nodes.join(' ; ')).join(' || '));
}

const browser = await chromium.launch({
  executablePath: CHROMIUM,
  args: ['--headless', '--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync'],
});
const ctx = await browser.newContext({ ignoreHTTPSErrors: true, baseURL: BASE_URL, viewport: { width: 1280, height: 900 } });
page = await ctx.newPage();
page.setDefaultTimeout(20000);
page.on('pageerror', (e) => console.log('  [page error] ' + e.message));

async function signIn(login) {
  await page.goto('/console/#/login');
  await page.getByLabel('Login name').fill(login);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign in' }).click();
  await page.getByRole('heading', { name: 'Deployments' }).waitFor();
}
async function signOut() {
  await page.getByRole('button', { name: 'Sign out' }).click();
  await page.getByRole('heading', { name: 'Sign in to the van console' }).waitFor();
}

await step('eval: an operator has no Evaluation link and is refused on #/eval', async () => {
  await signIn('op1');
  if (await page.getByRole('link', { name: 'Evaluation' }).count()) throw new Error('the operator sees the link');
  await page.goto('/console/#/eval');
  await page.getByText('The evaluation is for auditors and administrators').waitFor();
  await signOut();
});

let usable = false;
await step('eval: the auditor opens the screen from the navigation', async () => {
  await signIn('aud1');
  await page.getByRole('link', { name: 'Evaluation' }).click();
  await page.getByRole('heading', { name: 'Accuracy and fairness evaluation' }).waitFor();
  await page.locator('#eval-data').waitFor();
  usable = !(await page.locator('#eval-data.reject').count());
  console.log('  data on the server: ' + (usable ? 'yes' : 'none'));
  await axe(page, 'console evaluation');
  await page.screenshot({ path: path.join(SHOTS, 'console-20-evaluation.png'), fullPage: true });
});

await step('eval: the model set offered first (and chosen) is the default for new deployments', async () => {
  const st = await page.evaluate(async () => {
    const t = sessionStorage.getItem('openlfr.console.token');
    return (await fetch('/api/eval', { headers: { Authorization: 'Bearer ' + t } })).json();
  });
  if (!st.default_model_set || st.model_sets[0] !== st.default_model_set) throw new Error('API: ' + JSON.stringify({ d: st.default_model_set, sets: st.model_sets }));
  const opts = await page.locator('#eval-model-set option').evaluateAll((os) => os.map((o) => o.value));
  const chosen = await page.locator('#eval-model-set').inputValue();
  if (opts[0] !== st.default_model_set || chosen !== st.default_model_set || opts.length !== st.model_sets.length) throw new Error('offered ' + opts.join(', ') + ', chosen ' + chosen + '; the default is ' + st.default_model_set);
  console.log('  model sets offered: ' + opts.join(', '));
});

if (!usable) {
  console.log('SKIP eval: the server has no evaluation data (OPENLFR_DATA): runs from the console are NOT tested');
  await step('eval: without data the screen says so and Start is disabled', async () => {
    await page.getByText('No evaluation can run on this van').waitFor();
    if (!(await page.locator('#eval-start').isDisabled())) throw new Error('Start is enabled');
  });
} else {
  let runId = 0;
  await step('eval: a run (every 1000th) starts, shows its progress and ends done', async () => {
    await page.getByLabel('Every K-th person or image').fill('1000');
    await page.locator('input[name=size][value=custom]').check();
    await page.getByRole('button', { name: 'Start the evaluation' }).click();
    const started = page.getByText(/Evaluation run \d+ started/);
    await started.waitFor();
    runId = parseInt((await started.innerText()).match(/run (\d+)/)[1], 10);
    await page.locator('#eval-progress').waitFor();
    if (!(await page.locator('#eval-start').isDisabled())) throw new Error('Start stays enabled while a run runs');
    await page.screenshot({ path: path.join(SHOTS, 'console-21-evaluation-running.png'), fullPage: true });
    await page.locator('#eval-run-' + runId, { hasText: 'done' }).waitFor({ timeout: 120000 });
    await page.locator('#eval-progress').waitFor({ state: 'detached' });
  });
  await step('eval: its report opens in a new tab, from the van, with inline SVG charts and no image', async () => {
    const [tab] = await Promise.all([
      ctx.waitForEvent('page'),
      page.getByRole('button', { name: 'Open the report of run ' + runId }).click(),
    ]);
    await tab.waitForURL(/^blob:/);
    await tab.waitForLoadState();
    const n = await tab.locator('svg').count();
    const imgs = await tab.locator('img').count();
    if (n < 3 || imgs) throw new Error(n + ' svg, ' + imgs + ' img');
    await tab.screenshot({ path: path.join(SHOTS, 'console-22-evaluation-report.png') });
    await tab.close();
  });
  await step('eval: a quick run is cancelled with its button', async () => {
    await page.locator('input[name=size][value=quick]').check();
    await page.getByRole('button', { name: 'Start the evaluation' }).click();
    await page.locator('#eval-progress').waitFor();
    page.once('dialog', (d) => d.accept());
    await page.getByRole('button', { name: 'Cancel the run' }).click();
    const row = page.locator('#eval-runs tbody tr').first();
    await row.filter({ hasText: 'cancelled' }).waitFor({ timeout: 30000 });
    // the "Cancelling run N…" banner does not outlive the cancel: once the
    // list says cancelled, the banner says so too (or is gone)
    const id = (await row.locator('th').innerText()).replace('#', '');
    const f = page.locator('#flash');
    const text = (await f.isVisible()) ? await f.innerText() : '';
    if (/Cancelling run/.test(text)) throw new Error('the banner still says ' + JSON.stringify(text) + ' with run ' + id + ' cancelled');
    if (text && text !== 'Evaluation run ' + id + ' cancelled.') throw new Error('banner: ' + JSON.stringify(text));
    await page.screenshot({ path: path.join(SHOTS, 'console-23-evaluation-runs.png'), fullPage: true });
    await axe(page, 'console evaluation (runs listed)');
  });
}

await browser.close();
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed ? 1 : 0);
