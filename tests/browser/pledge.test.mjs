// The supporter's pledge flow in a real browser, at desktop and phone sizes, in
// a time zone (Asia/Tokyo) other than the campaign's (America/New_York):
// pledge page -> per-field errors -> check your inbox -> confirm page -> you're in
// -> calendar file. Screenshots of each page go to docs/screenshots/.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMuster, launchBrowser, newContext, watchPage, shoot, expectedLocalTime, foldSpaces,
  readFile, VISITOR_ZONE, ORGANIZER_ZONE,
} from './harness.mjs';

let server;
let browser;
const problems = [];

before(async () => {
  server = await startMuster();
  browser = await launchBrowser();
});

after(async () => {
  try {
    await browser?.close();
  } finally {
    await server?.stop();
  }
});

// Submits a form by pressing its button and waits for the POST's answer and the new page.
async function submit(page, button, press) {
  const [resp] = await Promise.all([
    page.waitForNavigation({ waitUntil: 'load', timeout: 10_000 }),
    press(button),
  ]);
  return resp;
}

// The error message box must sit right under its field (or the field's label).
async function assertErrorNextTo(page, fieldSel, anchorSel, errorId, text) {
  const field = page.locator(fieldSel);
  assert.equal(await field.getAttribute('aria-invalid'), 'true', `${fieldSel} aria-invalid`);
  const describedby = (await field.getAttribute('aria-describedby')) || '';
  assert.ok(describedby.split(/\s+/).includes(errorId), `${fieldSel} aria-describedby "${describedby}" names ${errorId}`);
  const err = page.locator(`#${errorId}`);
  assert.ok(await err.isVisible(), `#${errorId} visible`);
  assert.match(await err.textContent(), text);
  const nextId = await page.locator(anchorSel).evaluate((el) => el.nextElementSibling && el.nextElementSibling.id);
  assert.equal(nextId, errorId, `#${errorId} directly follows ${anchorSel}`);
  const a = await page.locator(anchorSel).boundingBox();
  const e = await err.boundingBox();
  assert.ok(e.y >= a.y + a.height - 1 && e.y - (a.y + a.height) < 40,
    `#${errorId} (y=${e.y}) sits just below ${anchorSel} (bottom=${a.y + a.height})`);
  assert.ok(Math.abs(e.x - a.x) < 4, `#${errorId} left edge (${e.x}) aligned with ${anchorSel} (${a.x})`);
}

for (const device of ['desktop', 'phone']) {
  test(`pledge, confirm and calendar on ${device} in ${VISITOR_ZONE}`, { timeout: 120_000 }, async () => {
    const context = await newContext(browser, device);
    const page = await context.newPage();
    const seen = watchPage(page);
    const press = device === 'phone' ? (l) => l.tap() : (l) => l.click();
    try {
      // --- the pledge page
      const r = await page.goto(`${server.base}/c/docs-day`);
      assert.equal(r.status(), 200);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Ask for offline documentation');
      const local = foldSpaces(await page.locator('[data-local-time]').first().textContent());
      assert.ok(local.includes(VISITOR_ZONE), `launch moment "${local}" names ${VISITOR_ZONE}`);
      assert.equal(local, foldSpaces(expectedLocalTime()), 'launch moment in the visitor\'s wall time');
      const organizer = await page.locator('#organizer-time').textContent();
      assert.ok(organizer.includes(ORGANIZER_ZONE), `organizer's zone shown: "${organizer}"`);
      assert.match(organizer, /December 5, 2026/);
      assert.match(organizer, /10:00/);
      assert.equal(await page.locator('#timezone').inputValue(), VISITOR_ZONE, 'time zone filled in by the browser');
      assert.match(await page.locator('#pledge-count').textContent(), /^Pledges so far: \d+$/);
      await shoot(page, `pledge-${device}`);

      // --- the empty form: errors next to the fields
      let resp = await submit(page, page.getByRole('button', { name: 'Pledge' }), press);
      assert.equal(resp.status(), 422, 'an empty pledge is refused with 422');
      assert.ok(await page.locator('.errors[role=alert]').isVisible(), 'error summary shown');
      await assertErrorNextTo(page, '#email', '#email', 'email-error', /email address/i);
      await assertErrorNextTo(page, '#consent', 'label.check', 'consent-error', /tick the box/i);
      assert.equal(await page.locator('#name').getAttribute('aria-invalid'), null, 'name is optional');
      assert.equal(await page.locator('#timezone').inputValue(), VISITOR_ZONE, 'time zone kept after the errors');
      await shoot(page, `pledge-errors-${device}`);

      // --- fill it in; the consent box works from the keyboard and through its label
      const email = `ann-${device}@example.org`;
      await page.locator('#email').fill(email);
      await page.locator('#name').fill(`Ann ${device}`);
      await page.locator('#statement').fill('I read the handbook on the train, where there is no signal.');
      await page.locator('#timezone').focus();
      await page.keyboard.press('Tab');
      assert.equal(await page.evaluate(() => document.activeElement && document.activeElement.id), 'consent',
        'Tab from the time zone field reaches the consent checkbox');
      await page.keyboard.press('Space');
      assert.equal(await page.locator('#consent').isChecked(), true, 'Space ticks the box');
      await page.keyboard.press('Space');
      assert.equal(await page.locator('#consent').isChecked(), false, 'Space unticks the box');
      await press(page.locator('label.check span'));
      assert.equal(await page.locator('#consent').isChecked(), true, 'pressing the label text ticks the box');

      const offset = server.stderr.length;
      resp = await submit(page, page.getByRole('button', { name: 'Pledge' }), press);
      assert.equal(resp.status(), 200);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Check your inbox');
      await shoot(page, `check-inbox-${device}`);

      // --- the confirmation link from the server's log
      const link = await server.confirmLink(offset);
      assert.ok(link.startsWith(`${server.base}/confirm/`), `confirm link ${link}`);
      const c = await page.goto(link);
      assert.equal(c.status(), 200);
      assert.equal((await page.locator('h1').textContent()).trim(), 'Confirm your pledge');
      const confirmButton = page.getByRole('button', { name: /confirm/i });
      assert.ok(await confirmButton.isVisible(), 'Confirm button shown');
      const moment = foldSpaces(await page.locator('[data-local-time]').textContent());
      assert.equal(moment, foldSpaces(expectedLocalTime()), 'confirm page shows the moment in the visitor\'s zone');
      await shoot(page, `confirm-${device}`);

      // --- confirm: you're in, with a calendar file
      resp = await submit(page, confirmButton, press);
      assert.equal(resp.status(), 200);
      assert.match(await page.locator('h1').textContent(), /You're in/);
      const cal = page.locator('#calendar-link');
      assert.ok(await cal.isVisible(), 'calendar link shown');
      assert.equal(await page.locator('#share-url').inputValue(), `${server.base}/c/docs-day`);
      assert.ok(await page.getByRole('button', { name: 'Copy link' }).isVisible(), 'Copy link button revealed by the script');
      await shoot(page, `thankyou-${device}`);

      const href = await cal.getAttribute('href');
      assert.match(href, /^\/c\/docs-day\/calendar\/[A-Za-z0-9_-]+\.ics$/);
      const head = await page.request.get(new URL(href, server.base).href, { timeout: 10_000 });
      assert.equal(head.status(), 200);
      assert.match(head.headers()['content-type'], /^text\/calendar\b/);
      const [download] = await Promise.all([page.waitForEvent('download', { timeout: 10_000 }), press(cal)]);
      assert.match(download.suggestedFilename(), /\.ics$/);
      const ics = readFile(await download.path());
      assert.match(ics, /^BEGIN:VCALENDAR\r?\n/);
      assert.match(ics, /BEGIN:VEVENT/);
      assert.match(ics, /DTSTART[^\r\n]*20261205T150000Z|DTSTART;TZID=America\/New_York:20261205T100000/);
    } finally {
      problems.push(...seen.problems());
      await context.close();
    }
  });
}

test('on a phone, a refused pledge shows its errors without scrolling', { timeout: 60_000 }, async () => {
  // The error page is a new page load: unless it moves focus or scrolls to the
  // errors, the visitor sees the top of the campaign again, as if nothing happened.
  const context = await newContext(browser, 'phone');
  const page = await context.newPage();
  try {
    await page.goto(`${server.base}/c/docs-day`);
    await submit(page, page.getByRole('button', { name: 'Pledge' }), (l) => l.tap());
    const where = await page.evaluate(() => {
      const inView = (el) => { const r = el.getBoundingClientRect(); return r.bottom > 0 && r.top < innerHeight; };
      const summary = document.querySelector('.errors');
      const first = document.querySelector('[aria-invalid=true]');
      const active = document.activeElement;
      return {
        summaryTop: summary && Math.round(summary.getBoundingClientRect().top),
        viewport: innerHeight,
        focused: active && active !== document.body ? (active.id || active.className || active.tagName) : null,
        visible: !!((summary && inView(summary)) || (first && inView(first))),
      };
    });
    assert.ok(where.visible, `error summary at y=${where.summaryTop} of a ${where.viewport}px viewport, focus on ${where.focused || 'body'}: nothing on the first screen says the pledge was refused`);
  } finally {
    await context.close();
  }
});

test('the pledge flow pages log no console error, CSP violation or dialog', () => {
  assert.deepEqual(problems, []);
});
