// A todo-list page on the official PowerSync web SDK, syncing with the Syncline todo server it is served from.
// ?user=<id> picks the user (development tokens from /dev/token); ?multitab=0 keeps the database in this tab.
// ?streams=1 is for a server running the Sync Streams rules (--streams): the page then subscribes to the todos of
// each list it shows (&follow=0 leaves subscribing to whoever drives the page).
import { PowerSyncDatabase, Schema, Table, column } from '@powersync/web';

const params = new URLSearchParams(location.search);
const user = params.get('user') || 'alice';
const streams = params.get('streams') === '1';
const follow = streams && params.get('follow') !== '0';
// With Sync Streams: list id -> the subscription to that list's todos (null while subscribing).
const subscriptions = new Map();

// The client-side schema of PowerSync's todo demos (every table has an implicit text `id`).
const schema = new Schema({
  lists: new Table({ created_at: column.text, name: column.text, owner_id: column.text }),
  todos: new Table(
    {
      list_id: column.text,
      created_at: column.text,
      completed_at: column.text,
      description: column.text,
      created_by: column.text,
      completed_by: column.text,
      completed: column.integer
    },
    { indexes: { list: ['list_id'] } }
  )
});

const db = new PowerSyncDatabase({
  schema,
  database: { dbFilename: `todo-${encodeURIComponent(user)}.sqlite` },
  flags: { enableMultiTabs: params.get('multitab') !== '0' }
});

let token = null;

async function freshToken() {
  const r = await fetch(`/dev/token?user=${encodeURIComponent(user)}`);
  if (!r.ok) {
    throw new Error(`token endpoint answered ${r.status}`);
  }
  token = (await r.json()).token;
  return token;
}

const connector = {
  async fetchCredentials() {
    return { endpoint: location.origin, token: await freshToken() };
  },

  // One local transaction per request. 2xx: done; 4xx: the server will never accept it, discard it (the synced
  // state then shows the server's truth); 5xx or a network error: throw, and the SDK retries later.
  async uploadData(database) {
    const tx = await database.getNextCrudTransaction();
    if (!tx) {
      return;
    }
    const body = {
      client_id: await database.getClientId(),
      transaction_id: tx.transactionId,
      ops: tx.crud.map((e) => ({ op: e.op, table: e.table, id: e.id, data: e.opData ?? {} }))
    };
    const r = await fetch('/api/upload', {
      method: 'POST',
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token ?? (await freshToken())}` },
      body: JSON.stringify(body)
    });
    if (r.status === 401) {
      await freshToken();
      throw new Error('token expired; retrying the upload');
    }
    if (r.status >= 500) {
      throw new Error(`upload failed with ${r.status}; retrying`);
    }
    if (r.ok) {
      const result = await r.json();
      await tx.complete(result.write_checkpoint);
    } else {
      const text = await r.text();
      log(`upload rejected (${r.status}), discarded: ${text}`);
      await tx.complete();
    }
  }
};

function log(message) {
  console.warn(message);
  document.getElementById('log').textContent = message;
}

function el(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (k.startsWith('on')) {
      e.addEventListener(k.slice(2), v);
    } else if (v !== false && v != null) {
      e.setAttribute(k, v === true ? '' : v);
    }
  }
  e.append(...children);
  return e;
}

async function render() {
  const lists = await db.getAll('SELECT * FROM lists ORDER BY created_at, id');
  const todos = await db.getAll('SELECT * FROM todos ORDER BY created_at, id');
  const root = document.getElementById('lists');
  root.replaceChildren(
    ...lists.map((l) => {
      const input = el('input', { class: 'new-todo', placeholder: 'New todo' });
      const items = todos.filter((t) => t.list_id === l.id).map((t) =>
        el('li', { class: t.completed ? 'todo done' : 'todo', 'data-todo-id': t.id },
          el('input', { type: 'checkbox', checked: !!t.completed, onchange: (ev) => toggle(t, ev.target.checked) }),
          el('span', {}, t.description ?? '')));
      return el('section', { class: 'list', 'data-list-id': l.id, 'data-list-name': l.name },
        el('h2', {}, l.name ?? '', l.owner_id === user ? '' : ` (shared by ${l.owner_id})`),
        el('ul', {}, ...items),
        el('form', { class: 'add-todo', onsubmit: (ev) => { ev.preventDefault(); addTodo(l.id, input); } },
          input, el('button', { type: 'submit' }, 'Add')));
    })
  );
  root.dataset.lists = String(lists.length);
  root.dataset.todos = String(todos.length);
  if (follow) {
    followLists(lists.map((l) => l.id));
  }
}

// Keeps one subscription to `list_todos` per list shown, and drops those of lists gone.
function followLists(ids) {
  const shown = new Set(ids);
  for (const id of shown) {
    if (!subscriptions.has(id)) {
      subscriptions.set(id, null);
      db.syncStream('list_todos', { list: id }).subscribe()
        .then((s) => subscriptions.set(id, s))
        .catch((e) => log(`cannot subscribe to list ${id}: ${e}`));
    }
  }
  for (const [id, s] of subscriptions) {
    if (!shown.has(id) && s) {
      s.unsubscribe();
      subscriptions.delete(id);
    }
  }
}

async function addTodo(listId, input) {
  const description = input.value.trim();
  if (description) {
    await db.execute(
      'INSERT INTO todos (id, created_at, description, completed, created_by, list_id) VALUES (uuid(), ?, ?, 0, ?, ?)',
      [new Date().toISOString(), description, user, listId]);
    input.value = '';
  }
}

async function toggle(todo, done) {
  await db.execute('UPDATE todos SET completed = ?, completed_at = ?, completed_by = ? WHERE id = ?',
    [done ? 1 : 0, done ? new Date().toISOString() : null, done ? user : null, todo.id]);
}

document.getElementById('new-list').addEventListener('submit', async (ev) => {
  ev.preventDefault();
  const input = document.getElementById('list-name');
  const name = input.value.trim();
  if (name) {
    await db.execute('INSERT INTO lists (id, created_at, name, owner_id) VALUES (uuid(), ?, ?, ?)',
      [new Date().toISOString(), name, user]);
    input.value = '';
  }
});

db.registerListener({
  statusChanged(status) {
    const s = document.getElementById('status');
    s.dataset.connected = String(status.connected);
    s.dataset.synced = String(!!status.hasSynced);
    s.textContent = `${user}: ${status.connected ? 'connected' : 'offline'}${status.hasSynced ? ', synced' : ''}`
      + (status.dataFlowStatus?.uploading ? ', uploading' : '');
  }
});

await db.init();
db.onChange({ onChange: () => render() }, { tables: ['lists', 'todos'], throttleMs: 30 });
await render();
db.connect(connector);
window.todo = { db, user, streams, subscriptions };
