// The organizer's dashboard in a real browser: log in, create a campaign
// through the form (a refused slug first, its error next to the field), open
// the launch-day view, then pledge, confirm, launch and click from outside
// while the page stays open: the numbers and the charts change without a
// reload. Then close a target with a reason and download the CSV export.
// Screenshots (desktop and phone) go to docs/screenshots/admin-*.png.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import {
  startMuster, launchBrowser, newContext, watchPage, shoot, a11yFacts, a11yProblems,
  contrastProblems,
} from './harness.mjs';

const ORG_EMAIL = 'organizer@example.org';
const ORG_PASSWORD = 'a long organizer password';
const SLUG = 'launch-day';
const TARGETS = [
  { id: 'core', kind: 'github_issue', label: 'Core repository', repo: 'example/core' },
  { id: 'mirror', kind: 'gitlab_issue', label: 'GitLab mirror', project_url: 'https://gitlab.example.org/docs/core' },
  { id: 'office', kind: 'email', label: 'Maintainers', to: ['maintainers@example.org'] },
];

let server;
let browser;

// `muster organizer add` reads the password from stdin; server.dir holds the
// server's own copy of the binary.
function addOrganizer() {
  return new Promise((res, rej) => {
    const child = spawn(join(server.dir, 'muster'), ['organizer', 'add', ORG_EMAIL], { env: server.env });
    let err = '';
    child.stderr.on('data', (d) => { err += d; });
    const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
    child.on('exit', (code) => {
      clearTimeout(timer);
      if (code === 0) res(); else rej(new Error(`organizer add exited ${code}: ${err}`));
    });
    child.stdin.end(`${ORG_PASSWORD}\n`);
  });
}

before(async () => {
  server = await startMuster();
  await addOrganizer();
  browser = await launchBrowser();
});

after(async () => {
  await browser?.close();
  await server?.stop();
  // With MUSTER_BIN=build/asan/muster: no sanitizer report, leaks included (at exit).
  const report = (server?.stderr || '').match(/ERROR: (AddressSanitizer|LeakSanitizer).*|runtime error:.*/);
  assert.equal(report, null, `sanitizer report from muster serve:\n${server?.stderr.slice(-4000)}`);
});

async function submit(page, press) {
  const [resp] = await Promise.all([page.waitForNavigation({ waitUntil: 'load', timeout: 15_000 }), press()]);
  return resp;
}

async function login(page) {
  const r = await page.goto(`${server.base}/admin`);
  assert.equal(new URL(page.url()).pathname, '/login', 'an anonymous visit to /admin ends at /login');
  assert.equal(r.status(), 200);
  await page.locator('#email').fill(ORG_EMAIL);
  await page.locator('#password').fill(ORG_PASSWORD);
  await submit(page, () => page.getByRole('button', { name: 'Log in' }).click());
  assert.equal(new URL(page.url()).pathname, '/admin');
}

// A pledge through the JSON API; returns the confirmation link from the log.
async function pledge(email, name) {
  const offset = server.stderr.length;
  const r = await fetch(`${server.base}/c/${SLUG}/pledge`, {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ email, name, timezone: 'Europe/Berlin', consent: true }),
    signal: AbortSignal.timeout(10_000),
  });
  assert.equal(r.status, 202, `pledge of ${email}: ${await r.text()}`);
  return server.confirmLink(offset);
}

async function confirm(link) {
  const r = await fetch(link, { method: 'POST', signal: AbortSignal.timeout(10_000) });
  assert.equal(r.status, 200, `confirm ${link}`);
  await r.text();
}

const stat = (page, name) => page.locator(`[data-stat="${name}"]`).textContent();
const waitStat = (page, name, value) => page.waitForFunction(
  ([n, v]) => document.querySelector(`[data-stat="${n}"]`)?.textContent === v, [name, value], { timeout: 15_000 });

function assertA11y(facts, where) {
  const { problems } = a11yProblems(facts);
  assert.deepEqual(problems, [], `${where}: ${problems.join('; ')}`);
  assert.deepEqual(contrastProblems(facts), [], `${where}: contrast`);
}

test('an organizer creates a campaign and watches launch day live (desktop)', { timeout: 180_000 }, async () => {
  const context = await newContext(browser, 'desktop', { acceptDownloads: true });
  const page = await context.newPage();
  const seen = watchPage(page);
  try {
    await page.goto(`${server.base}/login`);
    await shoot(page, 'admin-login-desktop');
    await login(page);
    assert.match(await page.locator('.campaigns').textContent(), /Ask for offline documentation/);

    // --- the campaign form: a bad slug first
    await submit(page, () => page.getByRole('link', { name: 'New campaign' }).first().click());
    assert.equal(new URL(page.url()).pathname, '/admin/campaigns/new');
    assert.equal(await page.locator('#timezone').inputValue(), 'Asia/Tokyo', 'the time zone field starts with the browser\'s zone');
    await page.locator('#slug').fill('Launch Day!');
    await page.locator('#title').fill('Ask for a changelog');
    await page.locator('#description').fill('One kind message each, all at the same moment.\n\nMore: https://example.org/changelog');
    await page.locator('#organizer_name').fill('Changelog Friends');
    await page.locator('#launch_at').fill('2031-05-04T09:30');
    await page.locator('#timezone').fill('Europe/Berlin');
    await page.locator('#message_title').fill('Please keep a changelog');
    await page.locator('#message_body').fill('Hello,\n\nplease keep a changelog.\n\n{{#statement}}{{statement}}\n\n{{/statement}}-- {{name}}');
    await page.locator('#statement_enabled').check();
    await page.locator('#targets').fill(JSON.stringify(TARGETS, null, 2));
    await page.locator('#close_after_reports').fill('3');
    let resp = await submit(page, () => page.getByRole('button', { name: 'Create campaign' }).click());
    assert.equal(resp.status(), 422, 'a bad slug is refused with 422');
    const slugError = page.locator('#slug-error');
    assert.ok(await slugError.isVisible());
    assert.match(await slugError.textContent(), /lowercase letters, digits/);
    assert.equal(await page.locator('#slug').getAttribute('aria-invalid'), 'true');
    assert.equal(await page.locator('#slug').evaluate((el) => el.nextElementSibling.id), 'slug-error', 'the error follows the slug field');
    assert.equal(await page.locator('#title').inputValue(), 'Ask for a changelog', 'values are kept');
    assert.match(await page.locator('#targets').inputValue(), /"example\/core"/);
    await shoot(page, 'admin-form-errors-desktop');

    await page.locator('#slug').fill(SLUG);
    resp = await submit(page, () => page.getByRole('button', { name: 'Create campaign' }).click());
    assert.equal(new URL(page.url()).pathname, `/admin/campaigns/${SLUG}`);
    assert.match(await page.locator('.flash').textContent(), /created/);
    assert.equal((await page.locator('h1').textContent()).trim(), 'Ask for a changelog');

    // --- the launch-day view, live
    await page.waitForFunction(() => document.getElementById('live-status').dataset.state === 'live');
    assert.equal(await stat(page, 'pledges'), '0');
    assert.match(await page.locator('#charts').textContent(), /No pledges yet/);
    await page.evaluate(() => { window.__sameDocument = true; });

    const links = [];
    for (const [i, name] of ['Ada', 'Grace', '=HYPERLINK("http://x.example","y")'].entries()) {
      links.push(await pledge(`supporter${i}@example.org`, name));
    }
    await confirm(links[0]);
    await confirm(links[1]);
    await waitStat(page, 'pledges', '3');
    await waitStat(page, 'confirmed', '2');
    await page.locator('#chart-pledging-title').waitFor({ state: 'attached', timeout: 15_000 });
    const pledgedLine = await page.locator('svg[aria-labelledby^="chart-pledging"] polyline.s0').getAttribute('points');
    assert.ok(pledgedLine.split(' ').length >= 2, 'the pledges chart has a line');
    assert.match(await page.locator('#chart-pledging-desc').textContent(), /3 pledged, 2 confirmed/);

    const launch = await server.run(['launch', SLUG], 60_000);
    assert.equal(launch.code, 0, `muster launch: ${launch.stderr}`);
    const actionLinks = [...launch.stderr.matchAll(/event=mail\.written kind=reminder links=(\S+)/g)]
      .flatMap((m) => m[1].split(',')).filter((u) => new URL(u).pathname.startsWith('/a/'));
    assert.equal(actionLinks.length, 2, `two reminders with action links: ${launch.stderr}`);
    for (const link of actionLinks) {
      const r = await fetch(link, { redirect: 'manual', signal: AbortSignal.timeout(10_000) });
      assert.equal(r.status, 302, `one-click link ${link}`);
    }
    await waitStat(page, 'sent', '2');
    await page.waitForFunction(() => document.querySelector('[data-phase]').textContent === 'Live now',
      null, { timeout: 15_000 });
    await waitStat(page, 'clicks', '2');
    await page.locator('#chart-clicks-title').waitFor({ state: 'attached', timeout: 15_000 });
    const clickLines = await page.locator('svg[aria-labelledby^="chart-clicks"] polyline').count();
    assert.equal(clickLines, TARGETS.length, 'one line per target');
    assert.match(await page.locator('#reminders-bar-title').textContent(), /2 of 2 reminders settled/);
    assert.equal(await page.evaluate(() => window.__sameDocument), true, 'all of it without a reload');

    // the numbers as a table stay open across updates
    await page.locator('#chart-clicks-table summary').click();
    await page.waitForTimeout(2500);
    assert.equal(await page.locator('#chart-clicks-table').getAttribute('open'), '');
    await page.locator('#chart-clicks-table summary').click();

    await shoot(page, 'admin-launch-day-desktop');
    const facts = await a11yFacts(page);
    assertA11y(facts, 'launch-day view');
    assert.ok(facts.overflowX <= 0, `no sideways scrolling (${facts.overflowX}px)`);

    // --- close a target with a reason
    const core = page.locator('li[data-target="core"]');
    await core.locator('input[name="reason"]').fill('Issues are locked until Monday');
    await submit(page, () => core.getByRole('button', { name: 'Close target' }).click());
    assert.equal(await page.locator('li[data-target="core"]').getAttribute('data-state'), 'closed');
    assert.match(await page.locator('li[data-target="core"] [data-field="reason"]').textContent(), /locked until Monday/);
    assert.match(await page.locator('.history').textContent(), new RegExp(`Closed\\s*core.*by ${ORG_EMAIL}`, 's'));
    assert.ok(await page.locator('li[data-target="core"]').getByRole('button', { name: 'Reopen target' }).isVisible());

    // --- the CSV export
    const [download] = await Promise.all([
      page.waitForEvent('download', { timeout: 15_000 }),
      page.getByRole('link', { name: 'Download supporters' }).click(),
    ]);
    assert.equal(download.suggestedFilename(), `${SLUG}-supporters.csv`);
    const csv = readFileSync(await download.path(), 'utf8');
    const lines = csv.trimEnd().split('\r\n');
    assert.equal(lines.length, 4, csv);
    assert.match(lines[0], /^email,name,statement,timezone,status,/);
    assert.ok(lines.some((l) => l.startsWith('supporter2@example.org,"\'=HYPERLINK(')), `formula neutralised: ${csv}`);

    // --- the edit page and its preview
    await submit(page, () => page.getByRole('link', { name: 'Edit', exact: true }).click());
    assert.match(await page.locator('.preview').textContent(), /https:\/\/github\.com\/example\/core\/issues\/new\?title=Please%20keep%20a%20changelog/);
    assert.match(await page.locator('.preview').textContent(), /-- Sample Supporter/);
    await shoot(page, 'admin-edit-desktop');
    assertA11y(await a11yFacts(page), 'edit page');

    await page.goto(`${server.base}/admin`);
    assert.equal(await page.locator('.campaign').count(), 2);
    await shoot(page, 'admin-campaigns-desktop');

    assert.deepEqual(seen.problems(), [], 'no console errors, CSP violations or failed requests');
  } finally {
    await context.close();
  }
});

test('the dashboard on a phone', { timeout: 120_000 }, async () => {
  const context = await newContext(browser, 'phone');
  const page = await context.newPage();
  const seen = watchPage(page);
  try {
    await login(page);
    await shoot(page, 'admin-campaigns-phone');
    await page.goto(`${server.base}/admin/campaigns/${SLUG}`);
    await page.waitForFunction(() => document.getElementById('live-status').dataset.state === 'live');
    assert.equal(await stat(page, 'clicks'), '2');
    await shoot(page, 'admin-launch-day-phone');
    const facts = await a11yFacts(page);
    assertA11y(facts, 'launch-day view on a phone');
    assert.ok(facts.overflowX <= 0, `no sideways scrolling on a phone (${facts.overflowX}px)`);
    await page.goto(`${server.base}/admin/campaigns/${SLUG}/edit`);
    await shoot(page, 'admin-edit-phone');
    const form = await a11yFacts(page);
    assert.ok(form.overflowX <= 0, `the form fits a phone (${form.overflowX}px)`);
    assert.deepEqual(seen.problems(), [], 'no console errors, CSP violations or failed requests');
  } finally {
    await context.close();
  }
});
