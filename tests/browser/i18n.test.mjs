// Languages and directions in a real Chromium: an Arabic campaign and an
// English one, each at desktop and phone size. Every public page carries the
// campaign's lang and dir; text people typed resolves its own direction (an
// English name on the Arabic page is ltr, an Arabic statement on the English
// page is rtl); nothing in the message boxes is cut off (no scrollWidth or
// scrollHeight beyond the box); the moment is written by Intl in the page's
// language; axe-core finds no violation on any of these pages. Screenshots go
// to docs/screenshots/i18n-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import {
  startMuster, launchBrowser, newContext, watchPage, shoot, CAMPAIGN_FILE, VISITOR_ZONE,
  foldSpaces,
} from './harness.mjs';

const require = createRequire(import.meta.url);
const AXE = readFileSync(require.resolve('axe-core/axe.min.js'), 'utf8');

const base = JSON.parse(readFileSync(CAMPAIGN_FILE, 'utf8'));
const ARABIC = {
  ...base,
  language: 'ar',
  title: 'يوم التوثيق المفتوح',
  description: 'نطلب معًا نسخة من الدليل تعمل دون اتصال، لأن كثيرين منا يعملون حيث الاتصال بطيء أو مكلف.\n\nفي الخامس من ديسمبر نرسل الطلب في اللحظة نفسها.',
  organizer: { name: 'مجموعة التوثيق', email: 'team@example.org' },
  message: {
    title: 'نرجو نشر نسخة من الدليل تعمل دون اتصال مع كل إصدار جديد، بصيغة HTML أو PDF',
    body: 'مرحبًا،\n\nأستخدم الدليل كثيرًا، وستساعدني نسخة تعمل دون اتصال.\n\n{{#statement}}لماذا يهمّني هذا:\n{{statement}}\n\n{{/statement}}شكرًا لكم.\n\n{{#name}}-- {{name}}\n{{/name}}',
  },
  statement: { enabled: true, max_chars: 1000, prompt: 'لماذا يهمّك التوثيق دون اتصال؟' },
};

const cases = {
  ar: { campaign: ARABIC, lang: 'ar', dir: 'rtl', name: 'Alice Smith', nameDir: 'ltr', statement: 'أعمل في القطار كل يوم', statementDir: 'rtl', pledgeButton: 'أتعهّد', confirmButton: 'أؤكّد تعهّدي', unsubscribeButton: 'إلغاء الاشتراك' },
  en: { campaign: CAMPAIGN_FILE, lang: 'en', dir: 'ltr', name: 'دانة الحربي', nameDir: 'rtl', statement: 'التوثيق دون اتصال يهمّني كل يوم', statementDir: 'rtl', pledgeButton: 'Pledge', confirmButton: 'Confirm my pledge', unsubscribeButton: 'Unsubscribe' },
};

const servers = {};
const links = {};
let browser;

before(async () => {
  browser = await launchBrowser();
  for (const [key, c] of Object.entries(cases)) {
    const server = await startMuster({ campaign: c.campaign });
    servers[key] = server;
    links[key] = {};
    // One confirmed supporter per device size, so each run has its own
    // reminder (and unsubscribes only itself).
    for (const device of ['desktop', 'phone']) {
      const offset = server.stderr.length;
      const r = await fetch(`${server.base}/c/docs-day/pledge`, {
        method: 'POST',
        headers: { 'Content-Type': 'application/json' },
        body: JSON.stringify({ email: `${key}-${device}@example.org`, name: c.name, statement: c.statement, timezone: VISITOR_ZONE, consent: true }),
        signal: AbortSignal.timeout(10_000),
      });
      assert.equal(r.status, 202, await r.text());
      const confirm = await server.confirmLink(offset);
      const done = await fetch(confirm, { method: 'POST', signal: AbortSignal.timeout(10_000) });
      assert.equal(done.status, 200);
      await done.text();
      links[key][device] = { confirm };
    }
    const launch = await server.run(['launch', 'docs-day'], 60_000);
    assert.equal(launch.code, 0, launch.stderr);
    const reminders = `${launch.stderr}\n${server.stderr}`.split('\n').filter((l) => /kind=reminder links=/.test(l));
    assert.equal(reminders.length, 2, reminders.join('\n'));
    for (const [i, device] of ['desktop', 'phone'].entries()) {
      links[key][device].action = reminders[i].match(/(https?:\/\/\S+\/a\/\S+)/)[1];
      links[key][device].unsubscribe = reminders[i].match(/(https?:\/\/\S+\/u\/\S+)/)[1];
    }
  }
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    for (const s of Object.values(servers)) await s.stop();
  }
});

// What the page shows about directions and boxes, gathered in the page.
function pageFacts() {
  const html = document.documentElement;
  const boxes = [...document.querySelectorAll('textarea, input[type=text], input[type=email]')]
    .filter((el) => el.getBoundingClientRect().width > 0)
    .map((el) => ({
      id: el.id, dir: el.getAttribute('dir'), direction: getComputedStyle(el).direction,
      scrollWidth: el.scrollWidth, clientWidth: el.clientWidth,
      scrollHeight: el.scrollHeight, clientHeight: el.clientHeight, readonly: el.readOnly,
    }));
  return {
    lang: html.getAttribute('lang'), dir: html.getAttribute('dir'),
    direction: getComputedStyle(document.body).direction,
    boxes,
    overflowX: document.documentElement.scrollWidth - document.documentElement.clientWidth,
  };
}

async function axe(page) {
  await page.evaluate(AXE);
  const result = await page.evaluate(() => window.axe.run(document, { resultTypes: ['violations'] }));
  return result.violations.map((v) => `${v.id} (${v.impact}): ${v.help} at ${v.nodes.map((n) => n.target.join(' ')).join(', ')}`);
}

for (const key of Object.keys(cases)) {
  for (const device of ['desktop', 'phone']) {
    test(`${key} campaign at ${device} size: lang, dir, typed text, boxes, axe`, { timeout: 180_000 }, async () => {
      const c = cases[key];
      const server = servers[key];
      const context = await newContext(browser, device);
      const page = await context.newPage();
      const seen = watchPage(page);
      const problems = [];
      const visit = async (name, go) => {
        const r = await go();
        assert.ok(r, `${name} loaded`);
        const f = await page.evaluate(pageFacts);
        assert.equal(f.lang, c.lang, `${name}: html lang`);
        assert.equal(f.dir, c.dir, `${name}: html dir`);
        assert.equal(f.direction, c.dir, `${name}: the body's computed direction`);
        if (f.overflowX > 0) problems.push(`${name}: the page scrolls sideways by ${f.overflowX}px`);
        for (const b of f.boxes) {
          if (b.readonly && (b.scrollWidth > b.clientWidth || b.scrollHeight > b.clientHeight))
            problems.push(`${name}: #${b.id} is cut off (${b.scrollWidth}x${b.scrollHeight} in ${b.clientWidth}x${b.clientHeight})`);
          if (b.id !== 'timezone' && b.id !== 'share-url' && !/^instance/.test(b.id) && b.dir !== 'auto')
            problems.push(`${name}: #${b.id} has dir=${b.dir}, not auto`);
        }
        for (const v of await axe(page)) problems.push(`${name}: axe: ${v}`);
        return f;
      };
      const click = (name) => Promise.all([
        page.waitForNavigation({ waitUntil: 'load', timeout: 10_000 }),
        page.getByRole('button', { name, exact: true }).click(),
      ]).then(([r]) => r);

      // the pledge page, its moment written by Intl in the page's language
      await visit('pledge', () => page.goto(`${server.base}/c/docs-day`));
      const moment = await page.locator('#local-time').getAttribute('data-local-time');
      const want = new Intl.DateTimeFormat(c.lang, { dateStyle: 'full', timeStyle: 'short', hourCycle: 'h23', timeZone: VISITOR_ZONE })
        .format(new Date(moment));
      assert.equal(foldSpaces(await page.locator('#local-time').textContent()), foldSpaces(`${want} (${VISITOR_ZONE})`));
      assert.equal(await page.locator('h1').evaluate((e) => getComputedStyle(e).direction), key === 'ar' ? 'rtl' : 'ltr');
      await shoot(page, `i18n-${key}-pledge-${device}`);
      // the form refused, then the check-your-inbox page
      await visit('pledge errors', () => click(c.pledgeButton));
      await page.locator('#email').fill(`${key}-${device}@example.org`);
      await page.locator('#name').fill(c.name);
      await page.locator('#consent').check();
      assert.equal(await page.locator('#name').evaluate((e) => getComputedStyle(e).direction), c.nameDir,
        'the name field resolves the direction of what was typed');
      await visit('check inbox', () => click(c.pledgeButton));
      // the confirm page: the supporter's name and statement in their own direction
      await visit('confirm', () => page.goto(links[key][device].confirm));
      const dirs = await page.locator('#confirm-details dd').evaluateAll((dds) => dds.map((d) => [d.textContent, getComputedStyle(d).direction]));
      assert.deepEqual(dirs.find(([t]) => t === c.name), [c.name, c.nameDir], JSON.stringify(dirs));
      assert.deepEqual(dirs.find(([t]) => t === c.statement), [c.statement, c.statementDir], JSON.stringify(dirs));
      await shoot(page, `i18n-${key}-confirm-${device}`);
      await visit('thank you', () => click(c.confirmButton));
      // the action page and the unsubscribe page, from the reminder's links
      const { action, unsubscribe } = links[key][device];
      await visit('action', () => page.goto(`${action}?review=1`));
      assert.equal(await page.locator('#message-body').evaluate((e) => getComputedStyle(e).direction), key === 'ar' ? 'rtl' : 'ltr');
      assert.equal(await page.locator('#message-title').evaluate((e) => getComputedStyle(e).direction), key === 'ar' ? 'rtl' : 'ltr');
      const body = await page.locator('#message-body').inputValue();
      assert.ok(body.includes(`-- ${c.name}`), body);
      await shoot(page, `i18n-${key}-action-${device}`);
      await visit('unsubscribe', () => page.goto(unsubscribe));
      await visit('unsubscribed', () => click(c.unsubscribeButton));
      await visit('calendar 404', () => page.goto(`${server.base}/c/docs-day/calendar/${'A'.repeat(32)}.ics`));
      await shoot(page, `i18n-${key}-404-${device}`);
      assert.deepEqual(problems, []);
      assert.deepEqual(seen.problems(), []);
      await context.close();
    });
  }
}

test('axe itself finds the faults of a page built to have them', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, 'desktop');
  const page = await context.newPage();
  await page.setContent('<!doctype html><html><body><img src="x.png"><input type="text"></body></html>');
  const found = (await axe(page)).join('\n');
  assert.match(found, /^html-has-lang/m);
  assert.match(found, /^image-alt/m);
  assert.match(found, /^label/m);
  await context.close();
});
