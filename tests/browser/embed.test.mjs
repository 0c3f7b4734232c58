// The embeddable banner on a page of another origin (a second local port), in
// real Chromium: the script form in each of its three states (before the
// moment, during the window, after it with and without a thank-you line), a
// live switch from "before" to "during" at the moment without a reload, the
// iframe form, and what it promises the host site: no cookie, no request but
// the script itself, a link the keyboard reaches, nothing cut off at phone size.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { join } from 'node:path';
import { readFileSync, writeFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  startMuster, launchBrowser, newContext, watchPage, shoot, freePort, readFile, CAMPAIGN_FILE,
} from './harness.mjs';

const AXE = readFileSync(createRequire(import.meta.url).resolve('axe-core/axe.min.js'), 'utf8');

let server;
let browser;
let host;
let hostBase;
let apply;

// A campaign of the demo file at a moment seconds from now (UTC, whole seconds).
function campaignAt(slug, offsetSeconds, extra = {}) {
  const c = JSON.parse(readFile(CAMPAIGN_FILE));
  const at = new Date(Math.floor(Date.now() / 1000) * 1000 + offsetSeconds * 1000);
  c.slug = slug;
  c.title = `Banner test ${slug}`;
  c.launch = { at: at.toISOString().slice(0, 19), timezone: 'UTC', window_minutes: 60 };
  return { ...c, ...extra };
}

before(async () => {
  server = await startMuster({ campaign: campaignAt('later', 3 * 86400) });
  apply = async (c) => {
    const file = join(server.dir, `${c.slug}.json`);
    writeFileSync(file, JSON.stringify(c));
    const r = await server.run(['campaign', 'apply', file]);
    assert.equal(r.code, 0, r.stderr);
  };
  await apply(campaignAt('now', -600));
  await apply(campaignAt('over-thanks', -2 * 86400, { embed: { after: 'thanks' } }));
  await apply(campaignAt('over-hide', -2 * 86400));
  await apply(campaignAt('ar-later', 3 * 86400, { language: 'ar', title: 'يوم العمل من أجل التوثيق' }));
  await apply(campaignAt('ar-now', -600, { language: 'ar', title: 'يوم العمل من أجل التوثيق' }));

  // The organizer's own site, on another port: one page per banner.
  const port = await freePort();
  hostBase = `http://127.0.0.1:${port}`;
  host = createServer((req, res) => {
    const m = req.url.match(/^\/(script|iframe)\/([a-z-]+)$/);
    if (!m) { res.writeHead(404).end(); return; }
    const src = `${server.base}/c/${m[2]}/embed${m[1] === 'script' ? '.js' : ''}`;
    const banner = m[1] === 'script'
      ? `<script src="${src}"></script>`
      : `<iframe src="${src}" title="Day of action" style="border:0;width:100%;height:160px"></iframe>`;
    res.writeHead(200, { 'Content-Type': 'text/html; charset=utf-8' });
    res.end(`<!doctype html><html lang="en"><head><meta charset="utf-8"><title>Our site</title></head>`
      + `<body><main><h1>Our site</h1><p>Before the banner.</p>${banner}<p>After the banner.</p></main></body></html>`);
  });
  await new Promise((r) => host.listen(port, '127.0.0.1', r));
  browser = await launchBrowser();
});

after(async () => {
  try {
    await browser?.close();
    host?.close();
  } finally {
    await server?.stop();
  }
});

// Opens the host page for a banner; returns the page, what it requested and
// the banner's state (the text of its shadow root, its mode, whether hidden).
async function open(device, form, slug) {
  const context = await newContext(browser, device);
  const page = await context.newPage();
  const seen = watchPage(page);
  const requests = [];
  page.on('request', (r) => requests.push(r.url()));
  await page.goto(`${hostBase}/${form}/${slug}`, { waitUntil: 'load' });
  return { context, page, seen, requests };
}

async function scriptBanner(page) {
  return page.evaluate(() => {
    const h = document.querySelector('script').nextElementSibling;
    if (!h || !h.shadowRoot) return null;
    const box = h.shadowRoot.querySelector('section');
    const link = box.querySelector('a');
    return {
      hidden: h.hidden,
      text: box.textContent,
      mode: box.className,
      lang: box.getAttribute('lang'),
      label: box.getAttribute('aria-label'),
      href: link && link.href,
      target: link && link.target,
      overflow: [...box.querySelectorAll('*')].filter((e) => e.scrollWidth > e.clientWidth + 1).map((e) => e.tagName),
      width: box.getBoundingClientRect().width,
      pageWidth: document.documentElement.clientWidth,
    };
  });
}

function assertOnlyTheBanner(requests, slug, form) {
  const others = requests.filter((u) => !u.startsWith(hostBase));
  const want = form === 'script'
    ? [`${server.base}/c/${slug}/embed.js`]
    : [`${server.base}/c/${slug}/embed`, `${server.base}/static/embed.css`];
  assert.deepEqual(others.sort(), want.sort(), 'the banner asked for nothing but itself');
}

for (const device of ['desktop', 'phone']) {
  test(`before the moment: countdown, pledge count and a pledge link (${device})`, async () => {
    const { context, page, seen, requests } = await open(device, 'script', 'later');
    const b = await scriptBanner(page);
    assert.ok(b, 'the banner was drawn after its script tag');
    assert.equal(b.hidden, false);
    assert.match(b.mode, /m-before/);
    assert.match(b.text, /Banner test later/);
    assert.match(b.text, /We act together in 3 days/);
    assert.match(b.text, /Pledged so far: 0/);
    assert.equal(b.href, `${server.base}/c/later`);
    assert.equal(b.target, '_top');
    assert.equal(b.label, 'Banner test later');
    assert.equal(b.lang, 'en');
    assert.deepEqual(b.overflow, [], 'nothing in the banner is cut off');
    assert.ok(Math.abs(b.width - (b.pageWidth - 16)) <= 1, `full width: ${b.width} of ${b.pageWidth}`);
    assertOnlyTheBanner(requests, 'later', 'script');
    assert.deepEqual(await context.cookies(), [], 'no cookie for anyone');
    // the keyboard reaches the link: Tab from the top of the host page
    await page.keyboard.press('Tab');
    const focused = await page.evaluate(() => {
      const h = document.activeElement;
      const inner = h && h.shadowRoot && h.shadowRoot.activeElement;
      return inner ? inner.textContent : null;
    });
    assert.equal(focused, 'Pledge to take part');
    await shoot(page, `embed-before-${device}`);
    assert.deepEqual(seen.problems(), []);
    await context.close();
  });
}

test('the banner turns into "act now" at the moment, without a reload', async () => {
  await apply(campaignAt('soon', 5));
  const { context, page, seen } = await open('desktop', 'script', 'soon');
  let b = await scriptBanner(page);
  assert.match(b.mode, /m-before/, 'the campaign "soon" starts a few seconds after the page');
  assert.match(b.text, /We act together in \d+ seconds?/);
  const first = b.text;
  await page.waitForFunction(() => {
    const box = document.querySelector('script').nextElementSibling.shadowRoot.querySelector('section');
    return /m-during/.test(box.className);
  }, null, { timeout: 15_000 });
  b = await scriptBanner(page);
  assert.notEqual(b.text, first);
  assert.match(b.text, /The day of action is happening now\.\s*Act now/);
  assert.deepEqual(seen.problems(), []);
  await context.close();
});

test('during the window: a full-width "act now" banner linking to the pledge page', async () => {
  const { context, page, seen, requests } = await open('desktop', 'script', 'now');
  const b = await scriptBanner(page);
  assert.match(b.mode, /m-during/);
  assert.match(b.text, /Act now/);
  assert.equal(b.href, `${server.base}/c/now`);
  assertOnlyTheBanner(requests, 'now', 'script');
  await shoot(page, 'embed-during-desktop');
  assert.deepEqual(seen.problems(), []);
  await context.close();
});

test('after the window: a thank-you line when the organizer asks, else nothing', async () => {
  let { context, page, seen } = await open('desktop', 'script', 'over-thanks');
  let b = await scriptBanner(page);
  assert.equal(b.hidden, false);
  assert.match(b.text, /Thank you to everyone who took part\./);
  assert.equal(b.href, null, 'no link after the window');
  await shoot(page, 'embed-after-desktop');
  assert.deepEqual(seen.problems(), []);
  await context.close();

  ({ context, page, seen } = await open('desktop', 'script', 'over-hide'));
  b = await scriptBanner(page);
  assert.equal(b.hidden, true);
  const visible = await page.evaluate(() => document.querySelector('script').nextElementSibling.getBoundingClientRect().height);
  assert.equal(visible, 0, 'a hidden banner takes no room');
  assert.deepEqual(seen.problems(), []);
  await context.close();
});

test('the iframe form shows the same states and loads only its stylesheet', async () => {
  for (const [slug, want] of [['later', /Pledge to take part/], ['now', /Act now/],
    ['over-thanks', /Thank you to everyone who took part/]]) {
    const { context, page, seen, requests } = await open('phone', 'iframe', slug);
    const frame = page.frames().find((f) => f.url().startsWith(server.base));
    assert.ok(frame, `the iframe of ${slug} loaded (framing is allowed for it)`);
    const text = await frame.evaluate(() => document.body.textContent);
    assert.match(text, want);
    const bg = await frame.evaluate(() => getComputedStyle(document.querySelector('main')).backgroundColor);
    assert.notEqual(bg, 'rgba(0, 0, 0, 0)', 'its stylesheet applied');
    assertOnlyTheBanner(requests, slug, 'iframe');
    assert.deepEqual(await context.cookies(), []);
    if (slug === 'now') await shoot(page, 'embed-iframe-during-phone');
    assert.deepEqual(seen.problems(), []);
    await context.close();
  }
});

test('every other page still refuses to be framed', async () => {
  const context = await newContext(browser, 'desktop');
  const page = await context.newPage();
  const blocked = [];
  page.on('console', (m) => { if (/frame-ancestors|Refused to display/.test(m.text())) blocked.push(m.text()); });
  await page.setContent(`<iframe src="${server.base}/c/later" title="pledge page"></iframe>`);
  await page.waitForTimeout(1000);
  const frame = page.frames().find((f) => f.url().startsWith(`${server.base}/c/later`));
  const framedText = frame ? await frame.evaluate(() => document.body ? document.body.textContent : '') : '';
  assert.ok(!/Pledge to take part/.test(framedText), 'the pledge page did not render in a frame');
  await context.close();
});

// axe-core over the whole page, the banner's shadow root included: the WCAG
// violations (and best practices) it reports, one line each.
async function axe(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

test('axe-core finds no violation in the banner, in each state and both directions', { timeout: 180_000 }, async () => {
  for (const slug of ['later', 'now', 'over-thanks', 'ar-later', 'ar-now']) {
    for (const form of ['script', 'iframe']) {
      const { context, page } = await open('desktop', form, slug);
      assert.deepEqual(await axe(page), [], `${form} banner of ${slug} on the host page`);
      if (form === 'iframe') {
        // the framed document on its own, as a screen reader inside the frame reads it
        await page.goto(`${server.base}/c/${slug}/embed`, { waitUntil: 'load' });
        assert.deepEqual(await axe(page), [], `the iframe document of ${slug}`);
        if (slug.startsWith('ar-')) {
          const html = await page.evaluate(() => [document.documentElement.lang, document.documentElement.dir]);
          assert.deepEqual(html, ['ar', 'rtl']);
        }
      } else if (slug.startsWith('ar-')) {
        const b = await scriptBanner(page);
        assert.equal(b.lang, 'ar');
        const dir = await page.evaluate(() => getComputedStyle(document.querySelector('script').nextElementSibling.shadowRoot.querySelector('section')).direction);
        assert.equal(dir, 'rtl');
      }
      await context.close();
    }
  }
});
