// The official @powersync/web SDK in headless Chromium against a running todo server (TODO_SERVER_PORT):
// sync a list, go offline, add a todo, come back online, and see the todo reach the server and a second browser
// context. Then the page as an app: typing survives incoming changes, pending writes show as such, items can be
// deleted and lists shared, a refused change reads as a sentence, long text wraps. Prints one JSON line with what
// was written, for the caller to check in Postgres; exits 1 on failure.
import { chromium } from 'playwright-core';
import { startProxy } from './proxy.mjs';

const port = Number(process.env.TODO_SERVER_PORT);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const user = process.env.TODO_USER || `browser-${Date.now()}`;
const timeout = 90_000;
if (!port) {
  console.error('set TODO_SERVER_PORT to the port of a running todo server');
  process.exit(2);
}

const proxy = await startProxy(port);
const base = `http://127.0.0.1:${proxy.port}`;
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
});
const pageErrors = [];
const consoleErrors = [];

async function open(context, who = user) {
  const page = await context.newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  page.on('console', (m) => m.type() === 'error' && consoleErrors.push(m.text()));
  await page.goto(`${base}/?user=${encodeURIComponent(who)}`);
  await page.waitForSelector('#status[data-connected="true"][data-synced="true"]');
  return page;
}

async function uploadQueueEmpty(page) {
  await page.waitForFunction(async () => (await window.todo.db.getUploadQueueStats()).count === 0, null,
    { polling: 100, timeout });
}

try {
  const t0 = Date.now();
  const a = await open(await browser.newContext());
  const firstSync = Date.now() - t0;

  // Online: a new list goes up.
  const listName = `Groceries ${Date.now()}`;
  await a.fill('#list-name', listName);
  await a.click('#add-list');
  const list = a.locator(`section.list[data-list-name="${listName}"]`);
  await list.waitFor();
  const listId = await list.getAttribute('data-list-id');
  await uploadQueueEmpty(a);

  // Offline: the write stays in the local queue.
  proxy.setOffline(true);
  await a.waitForSelector('#status[data-connected="false"]');
  await list.locator('input.new-todo').fill('Buy milk offline');
  await list.locator('form.add-todo button').click();
  const todo = list.locator('li.todo', { hasText: 'Buy milk offline' });
  await todo.waitFor();
  const todoId = await todo.getAttribute('data-todo-id');
  // not uploaded yet, and shown so
  await list.locator(`li.todo.pending[data-todo-id="${todoId}"]`).waitFor();
  const queued = await a.evaluate(async () => (await window.todo.db.getUploadQueueStats()).count);
  if (queued < 1) {
    throw new Error('the offline write was not queued');
  }

  // Back online: the queue drains and the server has it.
  const t1 = Date.now();
  proxy.setOffline(false);
  await a.waitForSelector('#status[data-connected="true"]');
  await uploadQueueEmpty(a);
  const reconnectUpload = Date.now() - t1;
  await list.locator(`li.todo[data-todo-id="${todoId}"]:not(.pending)`).waitFor();

  // A second device (fresh browser storage) of the same user receives both.
  const b = await open(await browser.newContext());
  await b.locator(`section.list[data-list-id="${listId}"] li.todo[data-todo-id="${todoId}"]`).waitFor();

  // And a change from the second device reaches the first.
  await b.locator(`li.todo[data-todo-id="${todoId}"] input[type=checkbox]`).check();
  await a.locator(`li.todo.done[data-todo-id="${todoId}"]`).waitFor();

  // Typing survives incoming changes: what A is typing stays while B adds a todo to the same list.
  const typing = list.locator('input.new-todo');
  await typing.fill('half-typed');
  const listOnB = b.locator(`section.list[data-list-id="${listId}"]`);
  await listOnB.locator('input.new-todo').fill('From B');
  await listOnB.locator('form.add-todo button').click();
  await list.locator('li.todo', { hasText: 'From B' }).waitFor();
  if ((await typing.inputValue()) !== 'half-typed') {
    throw new Error('an incoming change wiped what was being typed');
  }
  await typing.fill('');

  // Items can be deleted from the page, everywhere.
  await listOnB.locator('li.todo', { hasText: 'From B' }).locator('button.delete').click();
  await list.locator('li.todo', { hasText: 'From B' }).waitFor({ state: 'detached' });

  // Long text wraps inside its list.
  await typing.fill('x'.repeat(400));
  await list.locator('form.add-todo button').click();
  await list.locator('li.todo', { hasText: 'x'.repeat(400) }).waitFor();
  const overflow = await list.evaluate((e) => e.scrollWidth - e.clientWidth);
  if (overflow > 1) {
    throw new Error(`a long todo overflows its list by ${overflow}px`);
  }

  // The owner shares the list; the other user sees it, marked as shared.
  const friend = `${user}-friend`;
  await list.locator('input.share-with').fill(friend);
  await list.locator('form.share button').click();
  const c = await open(await browser.newContext(), friend);
  const shared = c.locator(`section.list[data-list-id="${listId}"]`);
  await shared.waitFor();
  if (!(await shared.locator('h2').textContent()).includes(`shared by ${user}`)) {
    throw new Error('a shared list is not marked as shared');
  }

  // A change the server refuses (renaming someone else's list) is undone and explained in a sentence.
  await c.evaluate(async (id) => window.todo.db.execute('UPDATE lists SET name = ? WHERE id = ?', ['taken', id]),
    listId);
  await c.waitForFunction(() => document.getElementById('log').textContent.startsWith('The server did not accept'),
    null, { timeout });
  const sentence = await c.locator('#log').textContent();
  if (sentence.includes('{') || !sentence.endsWith(')')) {
    throw new Error(`a refused change does not read as a sentence: ${sentence}`);
  }
  await shared.locator('h2', { hasText: listName }).waitFor();

  if (pageErrors.length) {
    throw new Error(`errors on the page: ${pageErrors.join('; ')}`);
  }
  console.log(JSON.stringify({ ok: true, user, listId, listName, todoId, firstSyncMs: firstSync, reconnectUploadMs:
    reconnectUpload, consoleErrors: consoleErrors.length }));
} catch (e) {
  console.error(`browser test failed: ${e.stack || e}`);
  console.error(`console errors: ${JSON.stringify(consoleErrors.slice(-20))}`);
  process.exitCode = 1;
} finally {
  await browser.close();
  proxy.close();
}
