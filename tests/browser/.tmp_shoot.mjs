import { chromium } from 'playwright-core';
const base = process.env.BASE;
const b = await chromium.launch({ executablePath: '/usr/bin/chromium', args: ['--headless', '--no-sandbox', '--disable-gpu'] });
for (const [dev, opts] of Object.entries({ desktop: { viewport: { width: 1280, height: 800 } }, phone: { viewport: { width: 390, height: 844 }, deviceScaleFactor: 2, isMobile: true } })) {
  const ctx = await b.newContext(opts);
  const p = await ctx.newPage();
  p.on('console', (m) => console.log('console', m.type(), m.text()));
  p.on('pageerror', (e) => console.log('pageerror', e));
  await p.goto(base + '/login');
  await p.screenshot({ path: `/tmp/adm/shots/login-${dev}.png`, fullPage: true });
  await p.fill('#email', 'org@example.org'); await p.fill('#password', 'secretpass123');
  await Promise.all([p.waitForNavigation(), p.click('button[type=submit]')]);
  for (const [name, path] of (process.env.PAGES || '/admin,/admin/campaigns/docs-day').split(',').map((x, i) => [i, x])) {
    await p.goto(base + path);
    await p.waitForTimeout(2500);
    await p.screenshot({ path: `/tmp/adm/shots/p${name}-${dev}.png`, fullPage: true });
  }
  await ctx.close();
}
await b.close();
