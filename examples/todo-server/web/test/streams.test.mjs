// The official @powersync/web SDK in headless Chromium against a todo server running the Sync Streams rules
// (--streams, TODO_SERVER_PORT): the default stream brings the lists, a list's todos arrive only once the page
// subscribes to `list_todos` for it, the SDK's per-stream status reports the subscriptions, and unsubscribing
// takes the todos away again. Prints one JSON line with what it saw; exits 1 on failure.
import { chromium } from 'playwright-core';

const port = Number(process.env.TODO_SERVER_PORT);
const executablePath = process.env.CHROMIUM_PATH || '/usr/bin/chromium';
const user = process.env.TODO_USER || `streams-${Date.now()}`;
const timeout = 90_000;
if (!port) {
  console.error('set TODO_SERVER_PORT to the port of a todo server started with --streams');
  process.exit(2);
}

const base = `http://127.0.0.1:${port}`;
const browser = await chromium.launch({
  executablePath,
  headless: true,
  args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking',
    '--disable-component-update', '--disable-sync']
});
const pageErrors = [];

async function open(query) {
  const page = await (await browser.newContext()).newPage();
  page.setDefaultTimeout(timeout);
  page.on('pageerror', (e) => pageErrors.push(String(e)));
  await page.goto(`${base}/?user=${encodeURIComponent(user)}&streams=1${query}`);
  await page.waitForSelector('#status[data-connected="true"][data-synced="true"]');
  return page;
}

const step = (m) => console.error(`[${new Date().toISOString()}] ${m}`);
const todoCount = (page) => page.evaluate(async () => (await window.todo.db.getAll('SELECT id FROM todos')).length);

try {
  // Device A follows its lists: it subscribes to each list's todos as the list appears.
  const a = await open('');
  const listName = `Streams ${Date.now()}`;
  await a.fill('#list-name', listName);
  await a.click('#add-list');
  const list = a.locator(`section.list[data-list-name="${listName}"]`);
  await list.waitFor();
  const listId = await list.getAttribute('data-list-id');
  await list.locator('input.new-todo').fill('Subscribed todo');
  await list.locator('form.add-todo button').click();
  const todo = list.locator('li.todo', { hasText: 'Subscribed todo' });
  await todo.waitFor();
  const todoId = await todo.getAttribute('data-todo-id');
  await a.waitForFunction(async () => (await window.todo.db.getUploadQueueStats()).count === 0, null,
    { polling: 100, timeout });
  // The SDK reports A's subscription to this list as synced.
  await a.waitForFunction((id) => window.todo.db.currentStatus
    .forStream({ name: 'list_todos', parameters: { list: id } })?.subscription.hasSynced === true, listId,
  { polling: 100, timeout });

  step('A synced its list');
  // Device B does not subscribe on its own: it gets the list from the default stream, but no todos.
  const b = await open('&follow=0');
  await b.locator(`section.list[data-list-id="${listId}"]`).waitFor();
  const todosBefore = await todoCount(b);
  if (todosBefore !== 0) {
    throw new Error(`B received ${todosBefore} todos without subscribing`);
  }

  step('B has the list without todos');
  // B subscribes to the list: its todos arrive.
  await b.evaluate(async (id) => {
    window.listSubscription = await window.todo.db.syncStream('list_todos', { list: id }).subscribe();
    await window.listSubscription.waitForFirstSync();
  }, listId);
  await b.locator(`section.list[data-list-id="${listId}"] li.todo[data-todo-id="${todoId}"]`).waitFor();
  const statuses = await b.evaluate(() => window.todo.db.currentStatus.syncStreams.map((s) => ({
    name: s.subscription.name,
    parameters: s.subscription.parameters,
    isDefault: s.subscription.isDefault,
    explicit: s.subscription.hasExplicitSubscription,
    synced: s.subscription.hasSynced
  })));
  const lists = statuses.find((s) => s.name === 'lists');
  const todos = statuses.find((s) => s.name === 'list_todos');
  if (!lists?.isDefault || !todos?.explicit || !todos.synced || todos.parameters?.list !== listId) {
    throw new Error(`unexpected stream status ${JSON.stringify(statuses)}`);
  }

  step('B received the subscribed todos');
  // A subscription to someone else's list brings nothing.
  await b.evaluate(async () => {
    const s = await window.todo.db.syncStream('list_todos', { list: 'not-my-list' }).subscribe();
    await s.waitForFirstSync();
  });
  const afterForeign = await todoCount(b);

  step('foreign subscription synced');
  // B drops its subscriptions to the list's todos: they leave the device (the list stays).
  await b.evaluate((id) => window.todo.db.syncStream('list_todos', { list: id }).unsubscribeAll(), listId);
  await b.waitForFunction(async () => (await window.todo.db.getAll('SELECT id FROM todos')).length === 0, null,
    { polling: 200, timeout });
  await b.locator(`section.list[data-list-id="${listId}"]`).waitFor();

  step('todos removed');
  if (pageErrors.length) {
    throw new Error(`page errors: ${pageErrors.join('; ')}`);
  }
  console.log(JSON.stringify({ user, listId, todoId, todosBefore, afterForeign, statuses }));
  await browser.close();
} catch (e) {
  console.error(e);
  console.error(`page errors: ${JSON.stringify(pageErrors)}`);
  await browser.close();
  process.exit(1);
}
