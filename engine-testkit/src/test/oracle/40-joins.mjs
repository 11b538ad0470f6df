// Sync Streams (edition 3) joining a table-valued function: json_each over a request value in FROM, compared
// with the row by =, against the same condition written with IN. Compile, row and request cases.
import { streams3 } from '../lib.mjs';

const SCHEMA = [{ table: 't', columns: [['id', 'text'], ['owner', 'text'], ['n', 'int8']] }];
const QUERIES = {
  each: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE t.id = j.value",
  each_flipped: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE j.value = t.id",
  each_int: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE t.n = j.value",
  each_and_owner: "SELECT t.* FROM t, json_each(auth.parameter('ids')) AS j WHERE t.id = j.value AND t.owner = auth.user_id()",
  each_subscription: "SELECT t.* FROM t, json_each(subscription.parameter('ids')) AS j WHERE t.id = j.value AND t.owner = auth.user_id()",
  in_list: "SELECT t.* FROM t WHERE t.id IN auth.parameter('ids')"
};
const ROWS = { a: { id: 'a', owner: 'u1', n: 1n }, b: { id: 'b', owner: 'u2', n: 2n }, nul: { id: 'c', owner: null, n: null } };
const JWTS = { list: { sub: 'u1', ids: ['a', 'b', 1] }, empty: { sub: 'u1', ids: [] }, none: { sub: 'u1' },
  scalar: { sub: 'u1', ids: 'a' } };

const cases = [];
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
export default cases;
