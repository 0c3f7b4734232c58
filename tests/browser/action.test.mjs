// The action page and the unsubscribe page in a real browser. Two supporters
// pledge (JSON API) with a statement that is an HTML script tag, confirm (POST on
// the logged link), then `muster launch docs-day` sends the reminders; the /a/
// and /u/ links come from the launch's log. Screenshots go to docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMuster, launchBrowser, newContext, watchPage, shoot, pledgeAndConfirm,
} from './harness.mjs';

const XSS = '<script>alert(1)</script>';
const MESSAGE_TITLE = 'Please publish an offline edition of the handbook';
let server;
let browser;
let reminders = []; // [{action, unsubscribe}] one per supporter
const problems = [];

before(async () => {
  server = await startMuster();
  browser = await launchBrowser();
  await pledgeAndConfirm(server, { email: 'robin@example.org', name: 'Robin', statement: XSS });
  await pledgeAndConfirm(server, { email: 'sam@example.org', name: 'Sam', statement: `${XSS} & "quotes" <b>bold</b>` });
  const launch = await server.run(['launch', 'docs-day'], 60_000);
  assert.equal(launch.code, 0, `muster launch failed: ${launch.stderr}`);
  // The launch sends in the foreground; a running serve may take some of the
  // claimed work, so read the reminder lines from both logs.
  const lines = `${launch.stderr}\n${server.stderr}`.split('\n').filter((l) => /event=mail\.written kind=reminder /.test(l));
  reminders = lines.map((l) => {
    const urls = l.match(/links=(.*)$/)[1].split(/\s+/).filter((u) => /^https?:\/\//.test(u));
    return { action: urls.find((u) => u.includes('/a/')), unsubscribe: urls.find((u) => u.includes('/u/')) };
  });
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await server?.stop();
  }
});

test('the launch logs one reminder per confirmed supporter, with an /a/ and a /u/ link', () => {
  assert.equal(reminders.length, 2, 'two reminders');
  for (const r of reminders) {
    assert.ok(r.action && r.action.startsWith(`${server.base}/a/`), `action link ${r.action}`);
    assert.ok(r.unsubscribe && r.unsubscribe.startsWith(`${server.base}/u/`), `unsubscribe link ${r.unsubscribe}`);
  }
  assert.notEqual(reminders[0].action, reminders[1].action);
});

for (const [i, device] of [[0, 'desktop'], [1, 'phone']]) {
  test(`action page (?review=1) on ${device}: message as text, Copy copies it`, { timeout: 60_000 }, async () => {
    const { action } = reminders[i];
    const origin = new URL(server.base).origin;
    const context = await newContext(browser, device);
    await context.grantPermissions(['clipboard-read', 'clipboard-write'], { origin });
    const page = await context.newPage();
    const seen = watchPage(page);
    const press = device === 'phone' ? (l) => l.tap() : (l) => l.click();
    try {
      const r = await page.goto(`${action}?review=1`);
      assert.equal(r.status(), 200);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Your action');
      assert.equal(await page.locator('#message-title').inputValue(), MESSAGE_TITLE);
      const body = await page.locator('#message-body').inputValue();
      assert.ok(body.includes(XSS), `the statement is in the message as typed: ${JSON.stringify(body)}`);
      assert.match(body, /Why this matters to me:/);
      assert.match(body, i === 0 ? /-- Robin/ : /-- Sam/);
      // Shown as text: no element came from the statement, and nothing ran.
      const scripts = await page.evaluate(() => [...document.scripts].map((s) => s.src || s.textContent));
      assert.deepEqual(scripts, [`${origin}/static/muster.js`], 'the only script is muster.js');
      assert.equal(await page.locator('main b').count(), 0, 'no <b> from the statement');
      // Prefilled link for the assigned target.
      const open = page.locator('a.button').first();
      const href = await open.getAttribute('href');
      assert.match(href, /^(https:\/\/github\.com\/example-docs\/handbook\/issues\/new\?|https:\/\/gitlab\.example\.org\/docs\/handbook\/-\/issues\/new\?|mailto:)/);
      assert.ok(href.includes(encodeURIComponent('<script>')) || href.includes('%3Cscript%3E') || href.includes('%3cscript%3e'),
        'the statement is percent-encoded in the prefilled URL');

      const copy = page.getByRole('button', { name: 'Copy message' });
      assert.ok(await copy.isVisible(), 'Copy message button revealed by the script');
      await press(copy);
      await page.waitForFunction(() => [...document.querySelectorAll('button')].some((b) => b.textContent === 'Copied'), null, { timeout: 5_000 });
      const clip = await page.evaluate(() => navigator.clipboard.readText());
      assert.equal(clip, body, 'the clipboard holds the message body');

      await page.waitForTimeout(200); // a late dialog would show up here
      assert.deepEqual(seen.dialogs, [], 'no dialog opened');
      // Screenshot with the button back to its label and no focus ring.
      await page.waitForFunction(() => ![...document.querySelectorAll('button')].some((b) => b.textContent === 'Copied'), null, { timeout: 5_000 });
      await page.evaluate(() => document.activeElement && document.activeElement.blur());
      await shoot(page, `action-${device}`);
    } finally {
      problems.push(...seen.problems());
      await context.close();
    }
  });

  test(`unsubscribe page on ${device}: button, then unsubscribed`, { timeout: 60_000 }, async () => {
    const { unsubscribe } = reminders[i];
    const context = await newContext(browser, device);
    const page = await context.newPage();
    const seen = watchPage(page);
    const press = device === 'phone' ? (l) => l.tap() : (l) => l.click();
    try {
      const r = await page.goto(unsubscribe);
      assert.equal(r.status(), 200);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Unsubscribe');
      const button = page.getByRole('button', { name: 'Unsubscribe' });
      assert.ok(await button.isVisible());
      await shoot(page, `unsubscribe-${device}`);
      const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 10_000 }), press(button)]);
      assert.equal(resp.status(), 200);
      assert.equal((await page.locator('h1').textContent()).trim(), 'You are unsubscribed');
      await shoot(page, `unsubscribed-${device}`);
      // The link again: says so, and offers no button.
      await page.goto(unsubscribe);
      assert.match(await page.locator('main').textContent(), /You are unsubscribed/);
      assert.equal(await page.getByRole('button', { name: 'Unsubscribe' }).count(), 0);
    } finally {
      problems.push(...seen.problems());
      await context.close();
    }
  });
}

test('a statement echoed on the pledge error page is text, not markup', { timeout: 60_000 }, async () => {
  const context = await newContext(browser, 'desktop');
  const page = await context.newPage();
  const seen = watchPage(page);
  try {
    await page.goto(`${server.base}/c/docs-day`);
    await page.locator('#email').fill('not-an-address');
    await page.locator('#name').fill('"><img src=x onerror=alert(2)>');
    await page.locator('#statement').fill(`</textarea>${XSS}`);
    const [resp] = await Promise.all([
      page.waitForNavigation({ waitUntil: 'load', timeout: 10_000 }),
      page.getByRole('button', { name: 'Pledge' }).click(),
    ]);
    assert.equal(resp.status(), 422);
    assert.equal(await page.locator('#statement').inputValue(), `</textarea>${XSS}`);
    assert.equal(await page.locator('#name').inputValue(), '"><img src=x onerror=alert(2)>');
    assert.equal(await page.locator('img').count(), 0);
    await page.waitForTimeout(200);
    assert.deepEqual(seen.dialogs, []);
  } finally {
    problems.push(...seen.problems());
    await context.close();
  }
});

test('the action and unsubscribe pages log no console error, CSP violation or dialog', () => {
  assert.deepEqual(problems, []);
});
