// Sync Streams (edition 3) selecting from more than a table: json_each over a request value joined by =
// (against the same condition written with IN), and a subquery in FROM (an inline view). Compile, row and request
// cases.
import { streams3 } from '../lib.mjs';

const SCHEMA = [{ table: 't', columns: [['id', 'text'], ['owner', 'text'], ['n', 'int8']] },
  { table: 'u', columns: [['id', 'text'], ['t_id', 'text'], ['user_id', 'text']] }];
const QUERIES = {
  each: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE t.id = j.value",
  each_flipped: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE j.value = t.id",
  each_int: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE t.n = j.value",
  each_and_owner: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE t.id = j.value AND t.owner = auth.user_id()",
  each_subscription: "SELECT t.* FROM t, json_each(subscription.parameter('ids')) AS j WHERE t.id = j.value AND t.owner = auth.user_id()",
  in_list: "SELECT t.* FROM t WHERE t.id IN auth.parameter('ids')",
  view_plain: 'SELECT id FROM (SELECT id FROM t) AS s',
  view_renamed: "SELECT s.id, s.o FROM (SELECT id, owner AS o FROM t WHERE n > 1) AS s WHERE s.o = auth.user_id()",
  view_star: "SELECT * FROM (SELECT id, owner AS o FROM t) AS s WHERE s.o = auth.user_id()",
  view_expression: "SELECT id, upper(s.o) AS big FROM (SELECT id, owner AS o FROM t) AS s"
};
const ROWS = { a: { id: 'a', owner: 'u1', n: 1n }, b: { id: 'b', owner: 'u2', n: 2n }, nul: { id: 'c', owner: null, n: null } };
const JWTS = { list: { sub: 'u1', ids: ['a', 'b', 1] }, empty: { sub: 'u1', ids: [] }, none: { sub: 'u1' },
  scalar: { sub: 'u1', ids: 'a' } };

const cases = [];
// refused: a * in the view, a column it does not have
for (const [name, sql] of Object.entries({
  view_inner_star: "SELECT * FROM (SELECT * FROM t WHERE n IS NOT NULL) AS s WHERE s.id IN auth.parameter('ids')",
  view_missing_column: "SELECT s.id FROM (SELECT id FROM t) AS s WHERE s.owner = auth.user_id()",
  view_star_and_column: 'SELECT s.*, s.id AS x FROM (SELECT id, owner FROM t) AS s'
})) {
  cases.push({ id: `join-${name}`, description: sql, kind: 'compile', schema: SCHEMA,
    yaml: streams3({ s: { auto_subscribe: true, query: sql } }) });
}
for (const [q, sql] of Object.entries(QUERIES)) {
  const yaml = streams3({ s: { auto_subscribe: true, query: sql } });
  cases.push({ id: `join-${q}`, description: sql, kind: 'compile', schema: SCHEMA, yaml });
  for (const [r, row] of Object.entries(ROWS)) {
    cases.push({ id: `join-${q}-row-${r}`, description: `${sql}, row ${r}`, kind: 'row', schema: SCHEMA, yaml,
      input: { table: 't', row } });
  }
  for (const [j, jwt] of Object.entries(JWTS)) {
    cases.push({ id: `join-${q}-req-${j}`, description: `${sql}, token ${j}`, kind: 'request', schema: SCHEMA, yaml,
      input: { jwt, parameters: {}, streams: { include_defaults: true, subscriptions: [] } } });
  }
}
// A common table expression in FROM: the main query's, a subquery's; its own problems where it is written.
const withCte = (cte, query) =>
  `config:\n  edition: 3\nstreams:\n  s:\n    auto_subscribe: true\n    with:\n      mine: ${cte}\n    query: ${query}\n`;
const CTES = {
  cte_main: withCte('SELECT id, owner FROM t WHERE owner IS NOT NULL', 'SELECT * FROM mine WHERE owner = auth.user_id()'),
  cte_main_alias: withCte('SELECT id, owner AS o FROM t', 'SELECT m.id FROM mine AS m WHERE m.o = auth.user_id()'),
  cte_sub: withCte('SELECT t_id, user_id FROM u', 'SELECT * FROM t WHERE id IN (SELECT t_id FROM mine WHERE user_id = auth.user_id())'),
  cte_sub_filtered: withCte("SELECT t_id AS x, user_id FROM u WHERE id <> 'z'", 'SELECT * FROM t WHERE id IN (SELECT x FROM mine WHERE user_id = auth.user_id())'),
  cte_joined_rows: withCte("SELECT t_id, user_id FROM u WHERE id <> 'z'", 'SELECT t.* FROM t, mine WHERE t.id = mine.t_id AND mine.user_id = auth.user_id()'),
  cte_joined_on: withCte('SELECT t_id AS x, user_id FROM u', 'SELECT t.* FROM t JOIN mine m ON t.id = m.x WHERE m.user_id = auth.user_id()'),
  view_joined: streams3({ s: { auto_subscribe: true, query: "SELECT t.* FROM t, (SELECT t_id AS x, user_id FROM u WHERE id <> 'z') AS v WHERE t.id = v.x AND v.user_id = auth.user_id()" } })
};
for (const [name, yaml] of Object.entries(CTES)) {
  cases.push({ id: `join-${name}`, description: name, kind: 'compile', schema: SCHEMA, yaml });
  for (const [r, row] of Object.entries(ROWS)) {
    cases.push({ id: `join-${name}-row-${r}`, description: `${name}, row ${r}`, kind: 'row', schema: SCHEMA, yaml, input: { table: 't', row } });
  }
  cases.push({ id: `join-${name}-prow`, description: `${name}, a u row`, kind: 'parameter_row', schema: SCHEMA, yaml,
    input: { table: 'u', row: { id: 'x', t_id: 'a', user_id: 'u1' } } });
  cases.push({ id: `join-${name}-req`, description: `${name}, a request`, kind: 'request', schema: SCHEMA, yaml,
    input: { jwt: { sub: 'u1' }, parameters: {}, streams: { include_defaults: true, subscriptions: [] },
      parameter_rows: [{ table: 'u', row: { id: 'x', t_id: 'a', user_id: 'u1' } }, { table: 'u', row: { id: 'z', t_id: 'b', user_id: 'u1' } }] } });
}
for (const [name, yaml] of Object.entries({
  cte_star: withCte('SELECT * FROM t', 'SELECT * FROM mine'),
  cte_missing_column: withCte('SELECT id FROM t', 'SELECT * FROM mine WHERE owner = auth.user_id()'),
  cte_bad_sql: withCte('SELECT id FROM t WHERE', 'SELECT * FROM mine'),
  cte_like: withCte("SELECT id FROM t WHERE owner LIKE 'a%'", 'SELECT * FROM mine'),
  cte_joined: withCte('SELECT t_id, user_id FROM u', 'SELECT t.* FROM t, mine WHERE t.id = mine.t_id AND mine.user_id = auth.user_id()'),
  cte_joined_missing: withCte('SELECT t_id FROM u', 'SELECT t.* FROM t, mine WHERE t.id = mine.t_id AND mine.user_id = auth.user_id()')
})) {
  cases.push({ id: `join-${name}`, description: name, kind: 'compile', schema: SCHEMA, yaml });
}
export default cases;
