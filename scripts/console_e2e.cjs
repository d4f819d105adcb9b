// The admin console in headless Chromium (Debian's, driven by playwright-core), against
// a running server at $BASE with the seeded accounts. It sets up a student's work
// through the JSON API, then does an admin's day in the browser: a student refused,
// sign in by keyboard, approve a synopsis and see the project move, schedule a meeting,
// move orders (and see a stale move refused with the API's 409), resolve a request,
// restore a cascade from the trash after previewing it, find that in the activity log
// and verify the hash chain, deactivate / reactivate / erase a user, the stats charts,
// sign out. Every page's screenshot goes to $SHOTS. It fails on any request that leaves
// $BASE, any console error (a CSP violation is one), and any full page load after
// signing in that a click should not have caused.
'use strict';
const { chromium } = require('playwright-core');
const assert = require('node:assert/strict');

const BASE = process.env.BASE;
const SHOTS = process.env.SHOTS;
const BACKEND = process.env.BACKEND || '?';
const ADMIN = ['admin@test.com', 'Admin@1234'];
const STUDENT = ['student@test.com', 'Test@1234'];
const PDF = Buffer.from('%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n');

const timings = [];
let current; // the page, for a screenshot of a failure
async function step(name, fn) {
  const started = Date.now();
  try {
    await fn();
  } catch (e) {
    if (current) await current.screenshot({ path: `${SHOTS}/FAILED.png`, fullPage: true }).catch(() => {});
    throw e;
  }
  const ms = Date.now() - started;
  timings.push([name, ms]);
  console.log(`  ok  ${name} (${ms} ms)`);
}

async function api(method, path, token, body) {
  const headers = token ? { authorization: `Bearer ${token}` } : {};
  let payload;
  if (body instanceof FormData) payload = body;
  else if (body !== undefined) {
    headers['content-type'] = 'application/json';
    payload = JSON.stringify(body);
  }
  const r = await fetch(BASE + path, { method, headers, body: payload });
  const text = await r.text();
  const json = text ? JSON.parse(text) : null;
  if (!r.ok) throw new Error(`${method} ${path}: ${r.status} ${text}`);
  return json;
}

async function login([email, password]) {
  return (await api('POST', '/api/auth/login', null, { email, password })).access_token;
}

function pdfForm(fields) {
  const form = new FormData();
  for (const [k, v] of Object.entries(fields)) form.append(k, v);
  form.append('file', new Blob([PDF], { type: 'application/pdf' }), 'synopsis.pdf');
  return form;
}

/// A student's work waiting for the admins, made through the JSON API.
async function setUp() {
  const student = await login(STUDENT);
  const admin = await login(ADMIN);
  const p1 = await api('POST', '/api/projects', student, { title: 'Solar irrigation planner' });
  await api('POST', '/api/synopsis', student, pdfForm({ project_id: p1.id, title: 'Irrigation synopsis' }));
  const meeting = await api('POST', '/api/meetings', student, { topic: 'Synopsis feedback' });
  const plans = await api('GET', '/api/plans', null);
  const paid = plans.data.find((p) => p.price > 0) || plans.data[0];
  const orderA = await api('POST', '/api/orders', student, { plan_id: paid.id });
  const orderB = await api('POST', '/api/orders', student, { plan_id: paid.id });
  const request = await api('POST', '/api/requests', student, { request_type: 'deadline_extension', message: 'One more week, please' });
  const p2 = await api('POST', '/api/projects', student, { title: 'Abandoned idea' });
  await api('POST', `/api/projects/${p2.id}/files`, student, pdfForm({ kind: 'project' }));
  await api('DELETE', `/api/projects/${p2.id}`, student);
  // Something for every chart of the stats page.
  for (const [intent, ms] of [['idea_generation', 820], ['synopsis_help', 1430]]) {
    await api('POST', '/api/chatbot/messages', student, { message_type: 'user', message: `About ${intent}`, intent, response_time_ms: ms });
  }
  for (const [title, category] of [['Crop advisor', 'agriculture'], ['Canal monitor', 'agriculture'], ['Study planner', 'education']]) {
    await api('POST', '/api/ideas', student, { title, category, tech_stack: ['rust'], complexity: 'intermediate', project_id: p1.id });
  }
  const leaver = await api('POST', '/api/auth/register', null, { email: 'leaver@example.com', password: 'Passw0rd!', name: 'Leaving Student' });
  return { student, admin, p1, meeting, orderA, orderB, request, p2, leaver: leaver.user };
}

async function main() {
  const data = await setUp();
  const browser = await chromium.launch({
    executablePath: '/usr/bin/chromium',
    headless: true,
    args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update',
      '--disable-sync', '--disable-quic', '--no-first-run'],
  });
  const context = await browser.newContext({ viewport: { width: 1360, height: 900 } });
  const outside = [];
  await context.route('**/*', (route) => {
    const url = route.request().url();
    if (url.startsWith(BASE + '/')) return route.continue();
    outside.push(url);
    return route.abort();
  });
  const page = await context.newPage();
  current = page;
  const problems = [];
  // A 4xx the scenarios provoke (a refused sign-in, a stale move) is logged by Chromium
  // as a failed resource; anything else on the console (a CSP violation, a script
  // error, a 5xx) is a problem.
  const provoked = /^Failed to load resource: the server responded with a status of 4\d\d/;
  page.on('console', (m) => { if (m.type() === 'error' && !provoked.test(m.text())) problems.push(m.text()); });
  page.on('pageerror', (e) => problems.push(String(e)));
  let loads = 0;
  page.on('load', () => { loads += 1; });
  const shot = (name) => page.screenshot({ path: `${SHOTS}/${name}.png`, fullPage: true });
  const nav = (name) => page.getByRole('navigation', { name: 'Sections' }).getByRole('link', { name, exact: true }).click();
  const row = (id) => page.locator(`#row-${id}`);

  await step('a student is refused', async () => {
    await page.goto(`${BASE}/admin`);
    assert.match(page.url(), /\/admin\/login$/);
    await shot('login');
    await page.getByLabel('Email').fill(STUDENT[0]);
    await page.getByLabel('Password').fill(STUDENT[1]);
    await page.getByRole('button', { name: 'Sign in' }).click();
    await page.getByRole('alert').filter({ hasText: 'This console is for admins' }).waitFor();
    await shot('login-refused');
  });

  await step('an admin signs in with the keyboard', async () => {
    await page.goto(`${BASE}/admin/login`);
    // The email field has the focus (autofocus) once the page is ready.
    await page.waitForFunction(() => document.activeElement && document.activeElement.id === 'email');
    await page.keyboard.type(ADMIN[0]);
    await page.keyboard.press('Tab');
    await page.keyboard.type(ADMIN[1]);
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { level: 1, name: 'Overview' }).waitFor();
    await page.getByText('Synopses pending review').waitFor();
    await shot('overview');
  });
  const loadsAfterSignIn = loads;

  await step('approve a synopsis and see the project move', async () => {
    await nav('Synopses');
    const r = page.locator('tr', { hasText: 'Irrigation synopsis' });
    await r.getByText('(synopsis_pending)').waitFor();
    await shot('synopses');
    await r.getByRole('button', { name: 'Approve' }).click();
    await r.getByText('Now Approved.').waitFor();
    await r.getByText('(in_progress)').waitFor();
    const project = await api('GET', `/api/projects/${data.p1.id}`, data.student);
    assert.equal(project.status, 'in_progress');
  });

  await step('schedule a meeting', async () => {
    await nav('Meetings');
    const r = row(data.meeting.id);
    await r.getByLabel('When (UTC)').fill('2031-01-15T10:30');
    await r.getByLabel('Link').fill('https://meet.example.com/launchpad');
    await shot('meetings');
    await r.getByRole('button', { name: 'Schedule' }).click();
    await r.getByText('Now scheduled.').waitFor();
    const m = await api('GET', `/api/meetings/${data.meeting.id}`, data.student);
    assert.equal(m.status, 'scheduled');
    assert.equal(m.scheduled_at.slice(0, 16), '2031-01-15T10:30');
  });

  await step('move orders; a stale move shows the API 409', async () => {
    await nav('Orders');
    const a = row(data.orderA.id);
    await a.getByLabel('Payment reference').fill(`PAY-${BACKEND}-1`);
    await a.getByRole('button', { name: 'Mark paid' }).click();
    await a.getByText('Now paid.').waitFor();
    await a.getByRole('button', { name: 'Complete' }).click();
    await a.getByText('Now completed.').waitFor();
    // Someone else cancels order B while this page still offers its moves.
    await api('POST', `/api/admin/orders/${data.orderB.id}/status`, data.admin, { status: 'cancelled' });
    const b = row(data.orderB.id);
    await b.getByRole('button', { name: 'Mark paid' }).click();
    await b.getByRole('alert').filter({ hasText: /cancelled/ }).waitFor();
    await shot('orders');
    const order = await api('GET', `/api/orders/${data.orderB.id}`, data.student);
    assert.equal(order.status, 'cancelled');
  });

  await step('resolve a request', async () => {
    await nav('Requests');
    const r = row(data.request.id);
    await r.getByLabel('Outcome').selectOption('approved');
    await r.getByLabel('Note').fill('Granted: one more week.');
    await r.getByRole('button', { name: 'Resolve' }).click();
    await r.getByText('Now approved.').waitFor();
    await shot('requests');
  });

  await step('restore a cascade from the trash', async () => {
    await nav('Trash');
    const r = row(data.p2.id);
    await r.getByText('files 1, projects 1').waitFor();
    await r.getByRole('button', { name: 'Preview' }).click();
    await r.getByText('Restoring brings back files 1, projects 1.').waitFor();
    await shot('trash');
    await r.getByRole('button', { name: 'Restore' }).click();
    await page.locator(`#row-${data.p2.id}`).getByText('Restored files 1, projects 1.').waitFor();
    const files = await api('GET', `/api/projects/${data.p2.id}/files`, data.student);
    assert.equal(files.data.length, 1);
  });

  await step('find it in the activity log and verify the chain', async () => {
    await nav('Activity log');
    await page.getByLabel('Action').fill('trash.restore');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/action=trash.restore/);
    const link = page.getByRole('link', { name: `project ${data.p2.id}` });
    assert.equal(await link.count(), 1);
    await link.click();
    await page.waitForURL(/entity_id=/);
    await page.locator('tr', { hasText: 'project.delete' }).first().waitFor();
    await page.locator('tr', { hasText: 'trash.restore' }).first().waitFor();
    await page.getByRole('button', { name: 'Verify the chain' }).click();
    await page.getByText('Intact.').waitFor();
    await shot('activity');
  });

  await step('deactivate, reactivate and erase a user', async () => {
    await nav('Users');
    await page.getByLabel('Email or name').fill('leaver');
    await page.getByRole('button', { name: 'Filter' }).click();
    await page.waitForURL(/search=leaver/);
    const r = row(data.leaver.id);
    await r.getByRole('button', { name: 'Deactivate' }).click();
    await r.getByText('Deactivated; their sessions ended.').waitFor();
    await r.getByRole('button', { name: 'Activate' }).click();
    await r.getByText('Active again.').waitFor();
    await shot('users');
    await r.getByRole('link', { name: 'Erase…' }).click();
    await page.getByText('cannot be undone').waitFor();
    await page.getByRole('button', { name: 'Erase for good' }).click();
    await page.getByLabel(/to confirm/).fill('not the address');
    await page.getByRole('button', { name: 'Erase for good' }).click();
    await page.getByRole('alert').filter({ hasText: 'type the account' }).waitFor();
    await page.getByLabel(/to confirm/).fill('leaver@example.com');
    await shot('erase');
    await page.getByRole('button', { name: 'Erase for good' }).click();
    await page.getByText('The account is erased.').waitFor();
  });

  await step('the stats as charts', async () => {
    await nav('Stats');
    await page.getByRole('heading', { name: 'Most active users' }).waitFor();
    assert.equal(await page.locator('figure.chart').count(), 5);
    // Every view has data, so every chart has bars.
    assert.equal(await page.locator('figure.chart svg').count(), 5);
    await shot('stats');
  });

  await step('the overview after the day', async () => {
    await nav('Overview');
    await page.getByRole('heading', { name: 'Jobs' }).waitFor();
    await shot('overview-after');
  });

  const fullLoads = loads - loadsAfterSignIn;
  await step('sign out', async () => {
    await page.getByRole('button', { name: 'Sign out' }).click();
    await page.getByRole('button', { name: 'Sign in' }).waitFor();
    await page.goto(`${BASE}/admin/orders`);
    assert.match(page.url(), /\/admin\/login$/);
  });

  await browser.close();
  // The erase page's form is a real page change; everything else swaps in place.
  assert.ok(fullLoads <= 2, `pages loaded in full after signing in: ${fullLoads}`);
  assert.deepEqual(outside, [], 'requests that left the server');
  assert.deepEqual(problems, [], 'console errors (CSP violations among them)');
  const total = timings.reduce((s, [, ms]) => s + ms, 0);
  console.log(`console (${BACKEND}): ${timings.length} scenarios passed in ${total} ms; screenshots in ${SHOTS}`);
}

main().catch((e) => {
  console.error(`console (${BACKEND}): FAILED: ${e.stack || e}`);
  process.exit(1);
});
