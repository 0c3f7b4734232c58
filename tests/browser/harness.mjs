// Shared helpers for the browser tests: a muster server per test file (temp dir,
// its own SQLite file and Maildir, a free port on 127.0.0.1), headless Chromium
// through playwright-core, log scraping for the links muster logs for each mail,
// and in-page accessibility checks. Every wait here is bounded.
import { spawn, execFile } from 'node:child_process';
import { chmodSync, copyFileSync, mkdtempSync, mkdirSync, rmSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';

const here = dirname(fileURLToPath(import.meta.url));
export const ROOT = resolve(here, '..', '..');
export const MUSTER_BIN = process.env.MUSTER_BIN || join(ROOT, 'build', 'muster');
export const CAMPAIGN_FILE = join(ROOT, 'examples', 'docs-day.json');
export const SCREENSHOTS = join(ROOT, 'docs', 'screenshots');
export const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium';

export const VIEWPORTS = {
  desktop: { viewport: { width: 1280, height: 800 } },
  phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true, hasTouch: true },
};

// The campaign's launch moment, 2026-12-05 10:00 in America/New_York.
export const LAUNCH_UTC = '2026-12-05T15:00:00Z';
export const VISITOR_ZONE = 'Asia/Tokyo';
export const ORGANIZER_ZONE = 'America/New_York';

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

export function freePort() {
  return new Promise((res, rej) => {
    const s = createServer();
    s.unref();
    s.on('error', rej);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address();
      s.close(() => res(port));
    });
  });
}

// code: the exit code, or -1 (then signal says why, or spawnError when the
// binary could not be started at all).
function run(bin, args, env, timeoutMs = 60_000) {
  return new Promise((res) => {
    execFile(bin, args, { env, timeout: timeoutMs, killSignal: 'SIGKILL' }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === 'number' ? err.code : -1) : 0;
      const spawnError = err && typeof err.code === 'string' ? err.code : null;
      const signal = err ? err.signal || null : null;
      const why = spawnError ? `${spawnError}: ${err.message}` : signal ? `killed by ${signal}` : '';
      res({ code, signal, spawnError, stdout, stderr: [why, stderr].filter(Boolean).join('\n') });
    });
  });
}

// Other people rebuild build/muster while tests run: each server uses its own
// copy, taken when the binary is complete (it runs `muster init`), so a relink
// halfway through a test file changes nothing. A copy that cannot be started
// (missing, caught mid-link) is taken again, for 60 s at most.
async function privateBinary(dir, env) {
  const bin = join(dir, 'muster');
  const until = Date.now() + 60_000;
  for (;;) {
    let last;
    try {
      copyFileSync(MUSTER_BIN, bin);
      chmodSync(bin, 0o755);
      last = await run(bin, ['init'], env);
      if (last.code === 0) return bin;
      // It ran and failed: a real failure, not a binary caught mid-link.
      if (!last.spawnError) throw new Error(`muster init failed (${last.code}) with ${MUSTER_BIN}: ${last.stderr}`);
    } catch (e) {
      if (e.message.startsWith('muster init failed')) throw e;
      last = { code: -1, stderr: String(e) };
    }
    if (Date.now() > until) throw new Error(`muster init failed (${last.code}) with ${MUSTER_BIN}: ${last.stderr}`);
    await sleep(1000);
  }
}

// Starts `muster serve` after `muster init` and `muster campaign apply`.
// campaign: a path, or an object written to a temp file (a changed copy).
export async function startMuster({ campaign = CAMPAIGN_FILE, extraEnv = {} } = {}) {
  const dir = mkdtempSync(join(tmpdir(), 'muster-browser-'));
  const port = await freePort();
  const base = `http://127.0.0.1:${port}`;
  const env = {
    PATH: process.env.PATH,
    HOME: dir,
    TZ: 'UTC',
    LANG: 'C.UTF-8',
    MUSTER_DB: join(dir, 'muster.db'),
    MUSTER_LISTEN: `127.0.0.1:${port}`,
    MUSTER_BASE_URL: base,
    MUSTER_MAILDIR: join(dir, 'mail'),
    MUSTER_PLEDGE_LIMIT: '0',
    ...extraEnv,
  };
  for (const k of ['ASAN_OPTIONS', 'UBSAN_OPTIONS']) if (process.env[k]) env[k] = process.env[k];
  let file = campaign;
  if (typeof campaign === 'object') {
    file = join(dir, 'campaign.json');
    writeFileSync(file, JSON.stringify(campaign, null, 2));
  }
  let bin;
  try {
    bin = await privateBinary(dir, env);
    const apply = await run(bin, ['campaign', 'apply', file], env);
    if (apply.code !== 0) throw new Error(`muster campaign apply failed (${apply.code}): ${apply.stderr}`);
  } catch (e) {
    if (!process.env.MUSTER_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
    throw e;
  }

  const child = spawn(bin, ['serve'], { env, stdio: ['ignore', 'pipe', 'pipe'] });
  let stderr = '';
  let stdout = '';
  let exited = null;
  child.stderr.setEncoding('utf8').on('data', (d) => { stderr += d; });
  child.stdout.setEncoding('utf8').on('data', (d) => { stdout += d; });
  child.on('exit', (code, signal) => { exited = { code, signal }; });

  const server = {
    dir, port, base, env, child,
    get stderr() { return stderr; },
    get stdout() { return stdout; },
    // Runs another muster command against the same database and mail setup.
    run: (args, timeoutMs) => run(bin, args, env, timeoutMs),
    // Waits until a log line matching re appears after offset; returns its match.
    async waitForLog(re, offset = 0, timeoutMs = 10_000) {
      const until = Date.now() + timeoutMs;
      for (;;) {
        const m = stderr.slice(offset).match(re);
        if (m) return m;
        if (exited) throw new Error(`muster serve exited (${JSON.stringify(exited)}); stderr:\n${stderr}`);
        if (Date.now() > until) throw new Error(`no log line matching ${re} within ${timeoutMs} ms; stderr:\n${stderr.slice(offset)}`);
        await sleep(50);
      }
    },
    // The confirmation link of the next confirmation mail logged after offset.
    async confirmLink(offset, timeoutMs = 10_000) {
      const m = await server.waitForLog(/event=mail\.written kind=confirm links=(\S+)/, offset, timeoutMs);
      return m[1];
    },
    // Throws when the server is gone (it crashed): its exit and its last log lines.
    assertAlive() {
      if (exited) throw new Error(`muster serve died (${JSON.stringify(exited)}); last stderr:\n${stderr.split('\n').slice(-15).join('\n')}`);
    },
    // SIGTERM, then a bounded wait. Throws if the server had died before.
    async stop() {
      const diedBefore = exited;
      if (!exited) {
        child.kill('SIGTERM');
        const until = Date.now() + 10_000;
        while (!exited && Date.now() < until) await sleep(50);
        if (!exited) child.kill('SIGKILL');
      }
      if (!process.env.MUSTER_KEEP_TMP) rmSync(dir, { recursive: true, force: true });
      if (diedBefore) throw new Error(`muster serve died during the tests (${JSON.stringify(diedBefore)}); last stderr:\n${stderr.split('\n').slice(-15).join('\n')}`);
      return exited;
    },
  };

  const until = Date.now() + 15_000;
  for (;;) {
    if (exited) throw new Error(`muster serve exited early (${JSON.stringify(exited)}): ${stderr}`);
    try {
      const r = await fetch(`${base}/healthz`, { signal: AbortSignal.timeout(1000) });
      if (r.ok) break;
    } catch { /* not up yet */ }
    if (Date.now() > until) {
      await server.stop();
      throw new Error(`muster serve did not answer /healthz within 15 s: ${stderr}`);
    }
    await sleep(100);
  }
  return server;
}

// A pledge through the JSON API, confirmed with a POST on the logged link.
export async function pledgeAndConfirm(server, fields) {
  const offset = server.stderr.length;
  const r = await fetch(`${server.base}/c/docs-day/pledge`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ timezone: VISITOR_ZONE, consent: true, ...fields }),
    signal: AbortSignal.timeout(10_000),
  });
  if (r.status !== 202) throw new Error(`pledge answered ${r.status}: ${await r.text()}`);
  const link = await server.confirmLink(offset);
  const c = await fetch(link, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  if (c.status !== 200) throw new Error(`confirm answered ${c.status}`);
  await c.text();
  return link;
}

export async function launchBrowser() {
  return chromium.launch({
    executablePath: CHROMIUM,
    timeout: 30_000,
    args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking',
      '--disable-component-update', '--no-first-run', '--disable-sync', '--disable-quic'],
  });
}

// A context for one device, in the visitor's zone, with page-level problem logs:
// console errors (a CSP violation shows up there), uncaught page errors, dialogs.
export async function newContext(browser, device, extra = {}) {
  const context = await browser.newContext({
    ...VIEWPORTS[device],
    locale: 'en-US',
    timezoneId: VISITOR_ZONE,
    ...extra,
  });
  context.setDefaultTimeout(10_000);
  context.setDefaultNavigationTimeout(15_000);
  return context;
}

// Problems are console errors and warnings (a CSP violation is one), uncaught
// page errors, dialogs (alert() from injected script), and subresources that
// failed. A document answered 4xx on purpose (422 for a refused form) is not
// one, and neither is the favicon.ico every browser asks for (it is in notes).
export function watchPage(page) {
  const seen = { console: [], pageErrors: [], dialogs: [], subresources: [], notes: [] };
  page.on('console', (m) => {
    if (m.type() !== 'error' && m.type() !== 'warning') return;
    if (/^Failed to load resource/.test(m.text())) return; // counted from the responses
    seen.console.push(`console ${m.type()}: ${m.text().slice(0, 200)} @ ${page.url()}`);
  });
  page.on('pageerror', (e) => seen.pageErrors.push(`page error: ${e} @ ${page.url()}`));
  page.on('dialog', (d) => {
    seen.dialogs.push(`dialog ${d.type()}: ${d.message()} @ ${page.url()}`);
    d.dismiss().catch(() => {});
  });
  page.on('response', (r) => {
    if (r.status() < 400 || r.request().resourceType() === 'document') return;
    const line = `${r.status()} for ${r.request().resourceType()} ${r.url()}`;
    if (new URL(r.url()).pathname === '/favicon.ico') seen.notes.push(line);
    else seen.subresources.push(line);
  });
  page.on('requestfailed', (r) => {
    if (r.failure() && /ERR_ABORTED/.test(r.failure().errorText)) return; // downloads, navigations away
    seen.subresources.push(`failed ${r.url()}: ${r.failure() && r.failure().errorText}`);
  });
  seen.problems = () => [...seen.console, ...seen.pageErrors, ...seen.dialogs, ...seen.subresources];
  return seen;
}

export async function shoot(page, name) {
  mkdirSync(SCREENSHOTS, { recursive: true });
  const path = join(SCREENSHOTS, `${name}.png`);
  await page.screenshot({ path, fullPage: true, timeout: 15_000, animations: 'disabled', caret: 'hide' });
  return path;
}

// What muster.js should write into [data-local-time]: the moment in the
// visitor's zone, formatted as the script does, then the zone in parentheses.
export function expectedLocalTime(zone = VISITOR_ZONE, iso = LAUNCH_UTC) {
  const text = new Intl.DateTimeFormat('en-US', { dateStyle: 'full', timeStyle: 'short', hourCycle: 'h23', timeZone: zone })
    .format(new Date(iso));
  return `${text} (${zone})`;
}

// ICU versions differ in the space before AM/PM (U+202F) and similar; compare
// with every kind of space folded to one ASCII space.
export const foldSpaces = (s) => s.replace(/[\s\u00a0\u202f\u2009]+/g, ' ').trim();

export function readFile(path) {
  return readFileSync(path, 'utf8');
}

// ---- accessibility checks, run inside the page -------------------------------

// Returns facts; the tests decide what to assert. Runs in the browser.
function inPageFacts() {
  const parse = (c) => {
    const m = c.match(/rgba?\(([^)]+)\)/);
    if (!m) return null;
    const p = m[1].split(/[\s,/]+/).filter(Boolean).map(Number);
    return { r: p[0], g: p[1], b: p[2], a: p.length > 3 ? p[3] : 1 };
  };
  const blend = (top, bottom) => ({
    r: top.r * top.a + bottom.r * (1 - top.a),
    g: top.g * top.a + bottom.g * (1 - top.a),
    b: top.b * top.a + bottom.b * (1 - top.a),
    a: 1,
  });
  // The background an element's text is drawn on: its own and its ancestors'
  // background colors, blended from the canvas (white) up.
  const background = (el) => {
    const layers = [];
    for (let e = el; e; e = e.parentElement) {
      const c = parse(getComputedStyle(e).backgroundColor);
      if (c && c.a > 0) {
        layers.push(c);
        if (c.a >= 1) break;
      }
    }
    let bg = { r: 255, g: 255, b: 255, a: 1 };
    for (let i = layers.length - 1; i >= 0; i--) bg = blend(layers[i], bg);
    return bg;
  };
  const lum = ({ r, g, b }) => {
    const f = (v) => { v /= 255; return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4; };
    return 0.2126 * f(r) + 0.7152 * f(g) + 0.0722 * f(b);
  };
  const ratio = (fg, bg) => {
    const a = lum(fg), b = lum(bg);
    return (Math.max(a, b) + 0.05) / (Math.min(a, b) + 0.05);
  };
  const contrastOf = (el) => {
    const cs = getComputedStyle(el);
    const bg = background(el);
    let fg = parse(cs.color);
    if (fg.a < 1) fg = blend(fg, bg);
    const size = parseFloat(cs.fontSize);
    const bold = Number(cs.fontWeight) >= 700;
    const large = size >= 24 || (bold && size >= 18.66);
    const short = (el.textContent || el.value || '').trim().replace(/\s+/g, ' ').slice(0, 50);
    return { ratio: Math.round(ratio(fg, bg) * 100) / 100, large, color: cs.color, bg: `rgb(${bg.r}, ${bg.g}, ${bg.b})`, text: short };
  };
  const visible = (el) => {
    const r = el.getBoundingClientRect();
    const cs = getComputedStyle(el);
    return r.width > 0 && r.height > 0 && cs.visibility !== 'hidden' && cs.display !== 'none';
  };
  const describe = (el) => `${el.tagName.toLowerCase()}${el.id ? '#' + el.id : ''}${el.className ? '.' + String(el.className).split(' ').join('.') : ''}`;

  const fields = [...document.querySelectorAll('input, textarea, select')]
    .filter((el) => el.type !== 'hidden')
    .map((el) => ({
      field: describe(el),
      labels: el.labels ? el.labels.length : 0,
      labelText: el.labels && el.labels[0] ? el.labels[0].textContent.trim().replace(/\s+/g, ' ').slice(0, 60) : '',
      ariaLabel: el.getAttribute('aria-label') || '',
      ariaLabelledby: el.getAttribute('aria-labelledby') || '',
    }));

  const texts = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const seen = new Set();
  for (let n = walker.nextNode(); n; n = walker.nextNode()) {
    const el = n.parentElement;
    if (!n.textContent.trim() || !el || seen.has(el) || !visible(el)) continue;
    if (['SCRIPT', 'STYLE', 'TEXTAREA'].includes(el.tagName)) continue;
    seen.add(el);
    texts.push({ el: describe(el), ...contrastOf(el) });
  }
  for (const el of document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]), textarea')) {
    if (visible(el) && (el.value || '').trim()) texts.push({ el: describe(el), ...contrastOf(el) });
  }

  // Text fields: the font and the width they get from the stylesheet.
  const formWidth = (el) => (el.closest('form, section, article, main') || document.body).clientWidth;
  const fieldStyles = [...document.querySelectorAll('input:not([type=hidden]):not([type=checkbox]):not([type=radio]), textarea, select')]
    .filter(visible)
    .map((el) => ({
      field: describe(el),
      fontSize: parseFloat(getComputedStyle(el).fontSize),
      widthShare: Math.round((el.getBoundingClientRect().width / formWidth(el)) * 100) / 100,
    }));

  // Focus indicators (WCAG 1.4.11): the outline drawn on focus against what is
  // around it (with outline-offset, that is the parent's background).
  const before = document.activeElement;
  const focusRings = [];
  for (const el of document.querySelectorAll('a[href], button, input:not([type=hidden]), textarea, select')) {
    if (!visible(el)) continue;
    el.focus({ preventScroll: true });
    if (document.activeElement !== el) continue;
    const cs = getComputedStyle(el);
    const width = parseFloat(cs.outlineWidth) || 0;
    if (cs.outlineStyle === 'none' || width === 0) {
      focusRings.push({ el: describe(el), ratio: 0, outline: 'none' });
      continue;
    }
    const ring = parse(cs.outlineColor);
    const around = background(el.parentElement || el);
    focusRings.push({ el: describe(el), ratio: Math.round(ratio(ring, around) * 100) / 100, outline: `${cs.outlineWidth} ${cs.outlineStyle} ${cs.outlineColor} on ${`rgb(${around.r}, ${around.g}, ${around.b})`}` });
  }
  if (before && before.focus) before.focus({ preventScroll: true }); else document.activeElement.blur();

  const bodyP = document.querySelector('main p:not(.muted):not(.eyebrow):not(.error)') || document.body;
  const primary = [...document.querySelectorAll('button:not(.secondary), a.button:not(.secondary)')].find(visible) || null;
  const h1s = [...document.querySelectorAll('h1')];
  const overflowX = document.documentElement.scrollWidth - document.documentElement.clientWidth;
  return {
    lang: document.documentElement.getAttribute('lang'),
    title: document.title,
    h1: h1s.map((h) => h.textContent.trim()),
    fields,
    body: { el: describe(bodyP), ...contrastOf(bodyP) },
    primary: primary ? { el: describe(primary), ...contrastOf(primary) } : null,
    texts,
    fieldStyles,
    focusRings,
    overflowX,
  };
}

export async function a11yFacts(page) {
  return page.evaluate(inPageFacts);
}

// The checks of the brief, as a list of problems (empty when all is well).
// Labels: a <label> tied by for= or by wrapping. aria-label alone is listed in
// `notes` (it names the field for a screen reader, but there is no visible label).
export function a11yProblems(facts, { requirePrimary = false } = {}) {
  const problems = [];
  const notes = [];
  if (!facts.lang) problems.push('html has no lang attribute');
  if (facts.h1.length !== 1) problems.push(`expected exactly one h1, found ${facts.h1.length}: ${JSON.stringify(facts.h1)}`);
  for (const f of facts.fields) {
    if (f.labels > 0) continue;
    if (f.ariaLabel || f.ariaLabelledby) notes.push(`${f.field} has no <label>, only aria-label "${f.ariaLabel || f.ariaLabelledby}"`);
    else problems.push(`${f.field} has no associated label`);
  }
  if (facts.body.ratio < 4.5) problems.push(`body text ${facts.body.el} contrast ${facts.body.ratio} < 4.5 (${facts.body.color} on ${facts.body.bg})`);
  if (facts.primary) {
    if (facts.primary.ratio < 4.5) problems.push(`primary button ${facts.primary.el} "${facts.primary.text}" contrast ${facts.primary.ratio} < 4.5 (${facts.primary.color} on ${facts.primary.bg})`);
  } else if (requirePrimary) {
    problems.push('no visible primary button');
  }
  return { problems, notes };
}

// Text fields look alike: the page's 1.0625rem font (17px; under 16px iOS
// zooms in on focus) and the whole width of their form.
export function fieldStyleProblems(facts) {
  return facts.fieldStyles
    .filter((f) => f.fontSize < 16 || f.widthShare < 0.9)
    .map((f) => `${f.field}: font ${f.fontSize}px, ${Math.round(f.widthShare * 100)}% of the form's width`);
}

// Focus indicators: at least 3:1 against the adjacent background. Returns
// [{outline, el}] for the ones below.
export function focusProblems(facts) {
  return facts.focusRings.filter((f) => f.ratio < 3).map((f) => ({ outline: `${f.outline} (${f.ratio}:1)`, el: f.el }));
}

// Every visible text against its background: 4.5, or 3 for large text.
export function contrastProblems(facts) {
  return facts.texts
    .filter((t) => t.ratio < (t.large ? 3 : 4.5))
    .map((t) => `${t.el} "${t.text}" contrast ${t.ratio} (${t.color} on ${t.bg})`);
}
