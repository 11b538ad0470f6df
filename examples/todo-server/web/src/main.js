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
      log(await refusal(r));
      await tx.complete();
    }
  }
};

// A refused upload as a sentence: the server's error description (its JSON envelope), else the status.
async function refusal(response) {
  let description = null;
  let code = null;
  try {
    const body = await response.json();
    description = body?.error?.description ?? null;
    code = body?.error?.code ?? null;
  } catch {
    // not JSON: fall back to the status
  }
  const reason = description ? description.replace(/\.$/, '') : `it answered ${response.status}`;
  return `The server did not accept a change, so it was undone: ${reason}.` + (code ? ` (${code})` : '');
}

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

// Each list's section is kept between renders (keyed by id), so what someone is typing into its "New todo" box
// survives incoming changes; only the items are rebuilt. Todos still in the upload queue show as pending.
const sections = new Map();

async function render() {
  const lists = await db.getAll('SELECT * FROM lists ORDER BY created_at, id');
  const todos = await db.getAll('SELECT * FROM todos ORDER BY created_at, id');
  const pending = new Set(
    (await db.getAll("SELECT json_extract(data, '$.id') AS id FROM ps_crud")).map((r) => r.id));
  const root = document.getElementById('lists');
  const shown = new Set();
  let previous = null;
  for (const l of lists) {
    shown.add(l.id);
    let s = sections.get(l.id);
    if (!s) {
      s = newSection(l);
      sections.set(l.id, s);
    }
    s.title.textContent = (l.name ?? '') + (l.owner_id === user ? '' : ` (shared by ${l.owner_id})`);
    s.section.dataset.listName = l.name ?? '';
    s.section.classList.toggle('pending', pending.has(l.id));
    s.items.replaceChildren(
      ...todos.filter((t) => t.list_id === l.id).map((t) => {
        const classes = ['todo'];
        if (t.completed) classes.push('done');
        if (pending.has(t.id)) classes.push('pending');
        return el('li', { class: classes.join(' '), 'data-todo-id': t.id },
          el('input', { type: 'checkbox', checked: !!t.completed, onchange: (ev) => toggle(t, ev.target.checked) }),
          el('span', { class: 'text' }, t.description ?? ''),
          pending.has(t.id) ? el('small', { class: 'state' }, ' not uploaded yet') : '',
          el('button', { class: 'delete', type: 'button', title: 'Delete', onclick: () => removeTodo(t) }, '×'));
      }));
    // Keep the order without moving sections that are already in place (moving one would blur its input).
    const expected = previous ? previous.nextSibling : root.firstChild;
    if (expected !== s.section) {
      root.insertBefore(s.section, expected);
    }
    previous = s.section;
  }
  for (const [id, s] of sections) {
    if (!shown.has(id)) {
      s.section.remove();
      sections.delete(id);
    }
  }
  root.dataset.lists = String(lists.length);
  root.dataset.todos = String(todos.length);
  root.dataset.pending = String(pending.size);
  if (follow) {
    followLists(lists.map((l) => l.id));
  }
}

function newSection(l) {
  const input = el('input', { class: 'new-todo', placeholder: 'New todo' });
  const title = el('h2', {});
  const items = el('ul', {});
  const section = el('section', { class: 'list', 'data-list-id': l.id },
    title,
    items,
    el('form', { class: 'add-todo', onsubmit: (ev) => { ev.preventDefault(); addTodo(l.id, input); } },
      input, el('button', { type: 'submit' }, 'Add')));
  if (l.owner_id === user) {
    // The owner shares a list with another user (the server's sharing endpoint; the list then syncs to them).
    const who = el('input', { class: 'share-with', placeholder: 'Share with user' });
    section.append(el('form', { class: 'share', onsubmit: (ev) => { ev.preventDefault(); share(l.id, who); } },
      who, el('button', { type: 'submit' }, 'Share')));
  }
  return { section, title, items, input };
}

async function share(listId, input) {
  const other = input.value.trim();
  if (!other) {
    return;
  }
  const r = await fetch(`/api/lists/${encodeURIComponent(listId)}/shares/${encodeURIComponent(other)}`, {
    method: 'PUT',
    headers: { Authorization: `Bearer ${token ?? (await freshToken())}` }
  });
  if (r.ok) {
    input.value = '';
    log(`Shared with ${other}.`);
  } else {
    log((await refusal(r)).replace('did not accept a change, so it was undone', 'did not share the list'));
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

async function removeTodo(todo) {
  await db.execute('DELETE FROM todos WHERE id = ?', [todo.id]);
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

let ready = false;
db.registerListener({
  statusChanged(status) {
    if (ready) {
      render(); // an upload finishing changes what is pending
    }
    const s = document.getElementById('status');
    s.dataset.connected = String(status.connected);
    s.dataset.synced = String(!!status.hasSynced);
    s.textContent = `${user}: ${status.connected ? 'connected' : 'offline'}${status.hasSynced ? ', synced' : ''}`
      + (status.dataFlowStatus?.uploading ? ', uploading' : '');
  }
});

await db.init();
ready = true;
db.onChange({ onChange: () => render() }, { tables: ['lists', 'todos'], throttleMs: 30 });
await render();
db.connect(connector);
window.todo = { db, user, streams, subscriptions };
