// The order of an edition-3 stream's bucket parameters: the reference sorts them by a stable hash of each row
// expression (its SQLite rendering and the columns it reads), not by their place in the query. Two or three
// parameters over columns, function calls, arithmetic, concatenation, casts and literals, in both orders.
import { streams3 } from '../lib.mjs';

const SCHEMA = [{ table: 't', columns: [['id', 'text'], ['owner', 'text'], ['n', 'int8'], ['r', 'float8'], ['tag', 'text']] }];
const ROW = { id: 'I', owner: 'o', n: 3n, r: 1.5, tag: 'x' };
const SIDES = [
  "t.id = auth.parameter('p')", "t.owner = auth.user_id()", "t.n = auth.parameter('n')", "t.tag = subscription.parameter('t')",
  "upper(t.owner) = auth.user_id()", "LOWER(t.tag) = auth.parameter('l')", "substring(t.owner, 1, 2) = auth.parameter('s')",
  "t.owner || 'x' = auth.parameter('c')", "CAST(t.n AS text) = auth.parameter('c')", "t.n * 2 = auth.parameter('n')",
  "t.n + 1 = auth.parameter('n')", "(t.n + 1) * 2 = auth.parameter('n')", "t.r * 2.0 = auth.parameter('n')",
  "ifnull(t.tag, 'none') = auth.parameter('t')", "json_extract(t.tag, '$.a') = auth.parameter('j')",
  "t.n - 1 = auth.parameter('n')", "length(t.owner) = auth.parameter('n')", "t.id = auth.parameter('q')"
];
function slug(s) {
  return s.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 40);
}
const cases = [];
for (let i = 0; i < SIDES.length; i++) {
  for (let j = i + 1; j < SIDES.length; j++) {
    for (const [a, b] of [[SIDES[i], SIDES[j]], [SIDES[j], SIDES[i]]]) {
      const query = `SELECT * FROM t WHERE ${a} AND ${b}`;
      cases.push({ id: `order-${i}-${j}-${a == SIDES[i] ? 'ab' : 'ba'}`, description: query, kind: 'row', schema: SCHEMA,
        yaml: streams3({ s: { auto_subscribe: true, query } }), input: { table: 't', row: ROW } });
    }
  }
}
// three at once
for (const [i, j, k] of [[0, 1, 2], [4, 7, 9], [3, 10, 13], [5, 6, 8]]) {
  const query = `SELECT * FROM t WHERE ${SIDES[k]} AND ${SIDES[i]} AND ${SIDES[j]}`;
  cases.push({ id: `order3-${slug(query)}`, description: query, kind: 'row', schema: SCHEMA,
    yaml: streams3({ s: { auto_subscribe: true, query } }), input: { table: 't', row: ROW } });
}
// one row expression compared with several request values: one parameter, the values' intersection
const SAME = {
  two_values: "SELECT * FROM t WHERE t.id = auth.parameter('p') AND t.id = auth.parameter('q')",
  value_and_array: "SELECT * FROM t WHERE t.id = auth.parameter('p') AND t.id IN auth.parameter('arr')",
  two_arrays: "SELECT * FROM t WHERE t.id IN auth.parameter('arr') AND t.id IN auth.parameter('arr2') AND t.owner = auth.user_id()",
  three_values: "SELECT * FROM t WHERE t.id = auth.parameter('p') AND t.id = auth.parameter('q') AND t.id = auth.parameter('p')",
  two_and_two: "SELECT * FROM t WHERE t.id = auth.parameter('p') AND t.id = auth.parameter('q') AND t.owner = auth.user_id() AND t.owner = auth.parameter('sub')"
};
const TOKENS = { same: { sub: 'o', p: 'I', q: 'I', arr: ['I', 'J'], arr2: ['J', 'K', 'I'] },
  differ: { sub: 'o', p: 'I', q: 'J', arr: ['K'], arr2: ['J'] }, missing: { sub: 'o', p: 'I' } };
for (const [name, query] of Object.entries(SAME)) {
  const yaml = streams3({ s: { auto_subscribe: true, query } });
  cases.push({ id: `same-${name}-row`, description: `${query}, a row`, kind: 'row', schema: SCHEMA, yaml, input: { table: 't', row: ROW } });
  for (const [t, jwt] of Object.entries(TOKENS)) {
    cases.push({ id: `same-${name}-req-${t}`, description: `${query}, token ${t}`, kind: 'request', schema: SCHEMA, yaml,
      input: { jwt, parameters: {}, streams: { include_defaults: true, subscriptions: [] } } });
  }
}
// ... and with a look-up result (a subquery) instead of a second request value
const SCHEMA2 = [{ table: 'issues', columns: [['id', 'text'], ['project_id', 'text']] },
  { table: 'members', columns: [['id', 'text'], ['project_id', 'text'], ['user_id', 'text']] }];
const WITH_LOOKUP = streams3({ s: { query: "SELECT * FROM issues WHERE project_id = subscription.parameter('project') AND project_id IN (SELECT project_id FROM members WHERE user_id = auth.user_id())" } });
cases.push({ id: 'same-lookup-row', description: 'request value and look-up on one column, a row', kind: 'row', schema: SCHEMA2,
  yaml: WITH_LOOKUP, input: { table: 'issues', row: { id: 'i1', project_id: 'p1' } } });
cases.push({ id: 'same-lookup-req', description: 'request value and look-up on one column, a request', kind: 'request',
  schema: SCHEMA2, yaml: WITH_LOOKUP, input: { jwt: { sub: 'alice' }, parameters: {},
    streams: { include_defaults: true, subscriptions: [{ stream: 's', parameters: { project: 'p1' } }] },
    parameter_rows: [{ table: 'members', row: { id: 'm1', project_id: 'p1', user_id: 'alice' } }] } });
export default cases;
