// Accessibility sanity checks on every page a supporter sees (and the small
// public pages), at phone width: each input/textarea/select has a <label> (for=
// or wrapping), exactly one h1, html lang, body text and the primary button at a
// contrast of 4.5:1 or more, and no sideways scrolling at 390 px. A second test
// per page holds every visible text to 4.5:1 (3:1 when large); then, over all
// pages: text fields styled alike, focus outlines at 3:1, no console errors.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import {
  startMuster, launchBrowser, newContext, watchPage, a11yFacts, a11yProblems, contrastProblems,
  fieldStyleProblems, focusProblems,
} from './harness.mjs';

let server;
let browser;
let context;
let page;
let seen;
const links = {};
const notes = [];
const fieldIssues = [];
const focusIssues = [];

before(async () => {
  server = await startMuster();
  browser = await launchBrowser();
  context = await newContext(browser, 'phone');
  page = await context.newPage();
  seen = watchPage(page);
});

after(async () => {
  try {
    await context?.close();
    await browser?.close();
  } finally {
    await server?.stop();
  }
});

const submit = (locator) => Promise.all([
  page.waitForNavigation({ waitUntil: 'load', timeout: 10_000 }),
  locator.click(),
]).then(([r]) => r);

// Each page: how to get there (in order: later pages use earlier state), and
// whether it must have a primary button.
const pages = [
  ['home', async () => page.goto(`${server.base}/`), false],
  ['pledge', async () => page.goto(`${server.base}/c/docs-day`), true],
  ['pledge errors', async () => submit(page.getByRole('button', { name: 'Pledge' })), true],
  ['check inbox', async () => {
    await page.locator('#email').fill('lee@example.org');
    await page.locator('#name').fill('Lee');
    await page.locator('#consent').check();
    links.offset = server.stderr.length;
    return submit(page.getByRole('button', { name: 'Pledge' }));
  }, false],
  ['confirm', async () => page.goto(await server.confirmLink(links.offset)), true],
  ['thank you', async () => submit(page.getByRole('button', { name: /confirm/i })), true],
  ['action (review)', async () => {
    const launch = await server.run(['launch', 'docs-day'], 60_000);
    assert.equal(launch.code, 0, launch.stderr);
    const line = `${launch.stderr}\n${server.stderr}`.split('\n').find((l) => /kind=reminder links=/.test(l));
    assert.ok(line, 'a reminder was logged');
    links.action = line.match(/(https?:\/\/\S+\/a\/\S+)/)[1];
    links.unsubscribe = line.match(/(https?:\/\/\S+\/u\/\S+)/)[1];
    return page.goto(`${links.action}?review=1`);
  }, false],
  ['pledge during the window', async () => page.goto(`${server.base}/c/docs-day`), true],
  ['unsubscribe', async () => page.goto(links.unsubscribe), true],
  ['unsubscribed', async () => submit(page.getByRole('button', { name: 'Unsubscribe' })), false],
  ['not found', async () => page.goto(`${server.base}/a/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA`), false],
  ['organizer login', async () => page.goto(`${server.base}/login`), true],
];

for (const [name, go, requirePrimary] of pages) {
  let facts;
  test(`${name}: labels, one h1, lang, body and button contrast, no sideways scroll`, { timeout: 60_000 }, async () => {
    const r = await go();
    assert.ok(r, 'the page loaded');
    facts = await a11yFacts(page);
    fieldIssues.push(...fieldStyleProblems(facts).map((x) => `${name}: ${x}`));
    focusIssues.push(...focusProblems(facts).map((x) => ({ page: name, ...x })));
    const { problems, notes: n } = a11yProblems(facts, { requirePrimary });
    notes.push(...n.map((x) => `${name}: ${x}`));
    if (facts.overflowX > 0) problems.push(`page scrolls sideways by ${facts.overflowX}px at 390px width`);
    assert.deepEqual(problems, [], `${name} (${page.url()})`);
  });
  test(`${name}: every visible text has enough contrast`, () => {
    assert.ok(facts, 'facts were gathered');
    assert.deepEqual(contrastProblems(facts), []);
  });
}

test('the checks themselves find the faults of a page built to have them', async () => {
  const bad = await context.newPage();
  try {
    await bad.setContent(`<!doctype html><html><head><style>
      body{background:#fff;color:#999} button{background:#6ea8fe;color:#fff;outline:none}
      a:focus{outline:2px solid #eee}</style></head><body><main>
      <h1>One</h1><h1>Two</h1><p>Grey text</p>
      <input type="text" id="nolabel"><label>Wrapped <input type="text" id="wrapped"></label>
      <input type="password" style="font-size:12px;width:100px"><a href="#x">link</a>
      <button>Go</button></main></body></html>`);
    const f = await a11yFacts(bad);
    const { problems } = a11yProblems(f);
    const text = problems.join('\n');
    assert.match(text, /no lang/);
    assert.match(text, /exactly one h1, found 2/);
    assert.match(text, /input#nolabel has no associated label/);
    assert.doesNotMatch(text, /input#wrapped/);
    assert.match(text, /body text .* contrast 2\.8/);
    assert.match(text, /primary button .* contrast/);
    assert.ok(contrastProblems(f).length >= 2);
    assert.equal(fieldStyleProblems(f).length, 3, JSON.stringify(f.fieldStyles));
    const rings = focusProblems(f).map((x) => `${x.el} ${x.outline}`).join('\n');
    assert.match(rings, /^button none/m);
    assert.match(rings, /^a 2px solid/m);
  } finally {
    await bad.close();
  }
});

test('text fields are styled alike on every page (font >= 16px, full form width)', () => {
  assert.deepEqual(fieldIssues, []);
});

test('focus indicators contrast 3:1 or more with their background (WCAG 1.4.11)', () => {
  // One line per distinct outline: where it is too faint.
  const byOutline = new Map();
  for (const { page: p, outline, el } of focusIssues) {
    const where = byOutline.get(outline) || new Map();
    where.set(p, [...(where.get(p) || []), el]);
    byOutline.set(outline, where);
  }
  const lines = [...byOutline].map(([outline, where]) =>
    `focus outline ${outline} on ${[...where].map(([p, els]) => `${p} (${[...new Set(els)].join(' ')})`).join('; ')}`);
  assert.deepEqual(lines, []);
});

test('no console error, CSP violation or dialog on these pages', (t) => {
  for (const n of notes) t.diagnostic(`note: ${n}`);
  assert.deepEqual(seen.problems(), []);
});
