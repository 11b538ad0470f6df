// Diagnostics, enumerated: queries that provoke each error and warning the reference can give (and their near
// misses), each asked as a bucket definition's data query, an edition-2 stream and an edition-3 stream; parameter
// queries of bucket definitions; and YAML-level problems (config keys and values, priorities, event definitions,
// stream keys, common table expressions). All compile cases: the vector is the reference's list of diagnostics.
import { bucket, streams2, streams3, withConfig } from '../lib.mjs';

const SCHEMA = [
  { table: 't', columns: [['id', 'text'], ['a', 'int8'], ['b', 'text'], ['owner', 'text'], ['tags', 'jsonb'], ['name', 'text']] },
  { table: 'u', columns: [['id', 'text'], ['t_id', 'text'], ['user_id', 'text'], ['role', 'text']] }
];

const QUERIES = [
  'SELECT id FROM t GROUP BY id', 'SELECT id FROM t GROUP BY id HAVING count(*) > 1', 'SELECT id FROM t ORDER BY id',
  'SELECT id FROM t LIMIT 1', 'SELECT id FROM t OFFSET 1', 'SELECT DISTINCT id FROM t', 'SELECT id FROM t FOR UPDATE',
  'SELECT t.id FROM t, u', 'SELECT t.id FROM t JOIN u ON t.id = u.t_id', 'SELECT t.id FROM t LEFT JOIN u ON t.id = u.t_id',
  'SELECT t.id FROM t INNER JOIN u ON t.id = u.t_id', 'SELECT t.id FROM t CROSS JOIN u',
  'SELECT t.id FROM t RIGHT JOIN u ON t.id = u.t_id', 'SELECT t.id FROM t FULL JOIN u ON t.id = u.t_id',
  'SELECT t.id FROM t JOIN u USING (id)', 'SELECT 1', 'SELECT id', 'SELECT id FROM (SELECT id FROM t) AS s',
  'UPDATE t SET a = 1', 'SELECT t.* FROM t', 'SELECT id, * FROM t', 'SELECT u.* FROM t', 'SELECT id FROM t WHERE id = $1',
  'SELECT id FROM public.t', 'SELECT id FROM other.t', 'SELECT id FROM "T"', 'SELECT ID FROM T', 'SELECT id, B FROM t',
  'SELECT id, a AS Y FROM t', 'SELECT id, a AS "Y" FROM t', 'SELECT id FROM t WHERE t.a.b = 1',
  'SELECT id FROM t WHERE public.t.a = 1', 'SELECT id FROM t WHERE nope(a) = 1', 'SELECT id FROM t WHERE upper() = 1',
  'SELECT id FROM t WHERE upper(a, b) = 1', 'SELECT id FROM t WHERE json_extract(a) = 1',
  'SELECT id FROM t WHERE substring(a) = 1', 'SELECT id FROM t WHERE substring(a, 1, 2, 3) = 1',
  'SELECT id FROM t WHERE ifnull(a, b, 1) = 1', 'SELECT id FROM t WHERE random() > 1',
  'SELECT id FROM t WHERE upper(DISTINCT b) = 1', 'SELECT id, CAST(a AS varchar) AS v FROM t',
  'SELECT id, CAST(a AS bigint) AS v FROM t', "SELECT id FROM t WHERE b LIKE 'x%'", "SELECT id FROM t WHERE b NOT LIKE 'x%'",
  'SELECT id FROM t WHERE tags -> 1 = 1', "SELECT id FROM t WHERE tags ->> 0 = 'x'", 'SELECT id FROM t WHERE - a = 1',
  'SELECT id FROM t WHERE x.a = 1', 'SELECT id FROM t WHERE nope = 1', 'SELECT id FROM t WHERE a = (SELECT 1)',
  'SELECT id FROM t WHERE EXISTS (SELECT 1 FROM u)', 'SELECT id FROM t WHERE id IN (SELECT t_id FROM u)',
  'SELECT id FROM t WHERE id IN (SELECT t_id, id FROM u)', 'SELECT id FROM t WHERE id NOT IN (SELECT t_id FROM u)',
  'SELECT id FROM t WHERE id IN (SELECT t_id FROM u WHERE user_id = auth.user_id())',
  'SELECT id FROM t WHERE id IN (SELECT * FROM u WHERE user_id = auth.user_id())',
  'SELECT id FROM t WHERE owner = request.user_id()', 'SELECT id FROM t WHERE owner = auth.user_id()',
  "SELECT id FROM t WHERE owner = subscription.parameter('x')", "SELECT id FROM t WHERE owner = connection.parameter('x')",
  'SELECT id FROM t WHERE owner = auth.foo()', 'SELECT id FROM t WHERE owner = foo.bar()',
  'SELECT id FROM t WHERE owner = subscription.user_id()', 'SELECT id FROM t WHERE owner = auth.parameter()',
  "SELECT id FROM t WHERE owner = auth.parameters('x')", 'SELECT id, auth.user_id() AS u FROM t',
  "SELECT id, connection.parameter('x') AS c FROM t", 'SELECT id FROM t WHERE a = 1 OR owner = auth.user_id()',
  'SELECT id FROM t WHERE NOT (owner = auth.user_id())', "SELECT id FROM t WHERE tags && auth.parameter('x')",
  "SELECT id FROM t WHERE auth.parameter('x') && tags", 'SELECT id FROM t WHERE 1 = 1',
  "SELECT id FROM t WHERE auth.user_id() = connection.parameter('x')", 'SELECT id FROM t WHERE a = 1e400',
  'SELECT id FROM t WHERE a = 0x10', 'SELECT id FROM t WHERE a = 1.', 'SELECT id FROM t WHERE a = .5',
  'SELECT id FROM t WHERE a = 00012', "SELECT id FROM t WHERE b = 'it''s'", "SELECT id FROM t WHERE b = E'x'",
  'SELECT id, a + 1 FROM t', 'SELECT id, a AS id FROM t', 'SELECT a FROM t', 'SELECT id, a AS "a b" FROM t',
  'SELECT id FROM t WHERE a = auth.user_id() AND b = auth.user_id()', 'SELECT id FROM t WHERE a = a',
  'SELECT id FROM t WHERE owner = auth.user_id() OR owner = subscription.parameter(\'o\')',
  "SELECT id FROM t WHERE owner IN subscription.parameter('o')", "SELECT id FROM t WHERE subscription.parameter('o') IN tags",
  'SELECT id, (SELECT 1) AS s FROM t', 'SELECT id FROM t WHERE id IN u',
  'SELECT id FROM t WHERE id = ANY(auth.parameter(\'x\'))', "SELECT id FROM t WHERE owner IS auth.user_id()",
  "SELECT id FROM t WHERE a BETWEEN 1 AND auth.parameter('x')", "SELECT id FROM t WHERE b = CURRENT_TIMESTAMP",
  'SELECT id FROM t WHERE a = 1 AND', 'SELECT id FROM t WHERE', 'SELECT id FROM t WHERE (a = 1', 'SELECT id FROM t t2',
  'SELECT x.id FROM t AS x', 'SELECT id FROM t AS x WHERE t.a = 1', 'SELECT id FROM json_each(auth.parameter(\'x\'))',
  "SELECT t.id FROM t, json_each(auth.parameter('x')) AS j WHERE t.id = j.value", 'SELECT id FROM t WHERE a IS TRUE',
  'SELECT id FROM t WHERE a IS NOT DISTINCT FROM 1', "SELECT id FROM t WHERE b ILIKE 'x'", 'SELECT id FROM t WHERE a @> 1',
  'SELECT id FROM t WHERE a % 2 = 0', 'SELECT id FROM t WHERE a & 1 = 1', 'SELECT id FROM t WHERE a << 1 = 2',
  'SELECT id, ARRAY[1, 2] AS arr FROM t', 'SELECT id FROM t WHERE a[1] = 1', 'SELECT id, $$x$$ AS s FROM t',
  'SELECT id FROM t WHERE owner = auth.user_id() LIMIT 10',
  // conditions reading the row and the request (or two tables) without comparing them by =
  "SELECT id FROM t WHERE a < auth.parameter('x')", "SELECT id FROM t WHERE auth.parameter('x') < a",
  "SELECT id FROM t WHERE upper(b) || auth.user_id() = 'x'", "SELECT id FROM t WHERE auth.user_id() || b = 'x'",
  "SELECT id FROM t WHERE a + auth.parameter('x') > b", "SELECT id FROM t WHERE NOT (a = auth.parameter('x'))",
  "SELECT t.id FROM t, u WHERE t.b || u.role = 'x'",
  "SELECT t.id FROM t, u WHERE t.id = u.t_id AND t.b || u.role = auth.user_id()",
  "SELECT id FROM t WHERE CASE WHEN a = 1 THEN auth.user_id() ELSE b END = 'x'",
  "SELECT id FROM t WHERE coalesce(owner, auth.user_id()) = 'x'"
];

const PARAMETER_QUERIES = [
  'SELECT request.user_id() AS user_id', 'SELECT request.user_id()', 'SELECT id AS user_id FROM u WHERE user_id = request.user_id()',
  'SELECT id FROM u WHERE user_id = request.user_id()', "SELECT request.jwt() ->> 'x' AS x", 'SELECT request.parameters() AS p',
  "SELECT request.parameter('x') AS x", 'SELECT request.foo() AS x', 'SELECT token_parameters.user_id AS user_id',
  'SELECT user_parameters.x AS x', 'SELECT u.id AS id FROM u AS x', 'SELECT id AS x FROM u WHERE role = 1 GROUP BY id',
  'SELECT * FROM u WHERE user_id = request.user_id()', 'SELECT id AS user_id FROM u, t',
  "SELECT value AS x FROM json_each(request.jwt() -> 'ids')", "SELECT value AS x FROM json_each(u.id)",
  "SELECT value AS x FROM json_each(request.jwt() -> 'ids') WHERE value = 1", 'SELECT id AS x FROM u WHERE user_id IN request.user_id()',
  'SELECT id AS x FROM u WHERE user_id = u.id', 'SELECT 1 AS x', 'SELECT id AS x FROM u WHERE request.user_id() = 1 + user_id',
  'SELECT upper(request.user_id()) AS x', 'SELECT id AS x FROM u WHERE NOT user_id = request.user_id()',
  'SELECT id AS x FROM u WHERE user_id = request.user_id() OR role = \'admin\''
];

function slug(s) {
  return s.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 50);
}

const cases = [];
const seen = new Set();
function add(prefix, label, yaml, withSchema) {
  const base = `${prefix}-${slug(label)}`;
  let id = base;
  for (let n = 2; seen.has(id); n++) id = `${base}-${n}`;
  seen.add(id);
  const c = { id, description: `${label} (${prefix})`, kind: 'compile', yaml };
  if (withSchema) c.schema = SCHEMA;
  cases.push(c);
}

for (const q of QUERIES) {
  add('b', q, bucket('b', null, q), false);
  add('s2', q, streams2({ s: { auto_subscribe: true, query: q } }), false);
  add('s3', q, streams3({ s: { auto_subscribe: true, query: q } }), false);
}
// With a source schema: column and table warnings.
for (const q of QUERIES.slice(0, 40)) {
  add('b-schema', q, bucket('b', null, q), true);
  add('s3-schema', q, streams3({ s: { auto_subscribe: true, query: q } }), true);
}
for (const p of PARAMETER_QUERIES) {
  add('p', p, bucket('b', p, 'SELECT id FROM t'), false);
  add('p-schema', p, bucket('b', p, 'SELECT id FROM t'), true);
}

// YAML-level problems.
const DATA = 'SELECT id FROM t';
const YAML = {
  'config-edition-0': withConfig({ edition: 0 }, bucket('b', null, DATA)),
  'config-edition-4': withConfig({ edition: 4 }, bucket('b', null, DATA)),
  'config-edition-text': withConfig({ edition: "'two'" }, bucket('b', null, DATA)),
  'config-edition-1-streams': withConfig({ edition: 1 }, 'streams:\n  s:\n    query: SELECT id FROM t\n'),
  'config-no-edition-streams': 'streams:\n  s:\n    query: SELECT id FROM t\n',
  'config-unknown-key': withConfig({ edition: 2, nope: 1 }, bucket('b', null, DATA)),
  'config-storage-version-1': withConfig({ edition: 2, storage_version: 1 }, bucket('b', null, DATA)),
  'config-storage-version-2': withConfig({ edition: 2, storage_version: 2 }, bucket('b', null, DATA)),
  'config-storage-version-99': withConfig({ edition: 2, storage_version: 99 }, bucket('b', null, DATA)),
  'config-storage-version-text': withConfig({ edition: 2, storage_version: 'x' }, bucket('b', null, DATA)),
  'config-timestamps-iso': withConfig({ edition: 2, timestamps_iso8601: true }, bucket('b', null, DATA)),
  'config-timestamps-text': withConfig({ edition: 2, timestamps_iso8601: "'yes'" }, bucket('b', null, DATA)),
  'config-fixed-json': withConfig({ edition: 1, fixed_json_extract: true }, bucket('b', null, DATA)),
  'config-not-a-map': 'config: 3\n' + bucket('b', null, DATA),
  'bucket-no-data': 'bucket_definitions:\n  b:\n    parameters: SELECT request.user_id() AS u\n',
  'bucket-data-not-list': 'bucket_definitions:\n  b:\n    data: SELECT id FROM t\n',
  'bucket-data-empty': 'bucket_definitions:\n  b:\n    data: []\n',
  'bucket-unknown-key': 'bucket_definitions:\n  b:\n    nope: 1\n    data:\n      - SELECT id FROM t\n',
  'bucket-not-a-map': 'bucket_definitions:\n  b: 3\n',
  'bucket-priority-0': bucket('b', null, DATA, '    priority: 0\n'),
  'bucket-priority-3': bucket('b', null, DATA, '    priority: 3\n'),
  'bucket-priority-4': bucket('b', null, DATA, '    priority: 4\n'),
  'bucket-priority-neg': bucket('b', null, DATA, '    priority: -1\n'),
  'bucket-priority-real': bucket('b', null, DATA, '    priority: 1.5\n'),
  'bucket-priority-text': bucket('b', null, DATA, "    priority: 'high'\n"),
  'bucket-priority-column': bucket('b', 'SELECT request.user_id() AS u, 1 AS _priority', DATA),
  'bucket-priority-column-text': bucket('b', "SELECT request.user_id() AS u, 'x' AS _priority", DATA),
  'bucket-priority-twice': bucket('b', 'SELECT request.user_id() AS u, 1 AS _priority', DATA, '    priority: 1\n'),
  'bucket-params-not-list': 'bucket_definitions:\n  b:\n    parameters: 3\n    data:\n      - SELECT id FROM t\n',
  'bucket-duplicate': 'bucket_definitions:\n  b:\n    data:\n      - SELECT id FROM t\n  b:\n    data:\n      - SELECT id FROM u\n',
  'top-unknown-key': 'nope: 1\n' + bucket('b', null, DATA),
  'top-empty': '',
  'top-not-a-map': '- 1\n',
  'top-bad-yaml': 'bucket_definitions:\n  b:\n    data:\n      - SELECT id FROM t\n   bad: [\n',
  'events-valid': bucket('b', null, DATA) + 'event_definitions:\n  e:\n    payloads:\n      - SELECT id FROM t\n',
  'events-not-object': bucket('b', null, DATA) + 'event_definitions:\n  e: 3\n',
  'events-payloads-not-array': bucket('b', null, DATA) + 'event_definitions:\n  e:\n    payloads: SELECT id FROM t\n',
  'events-payload-not-select': bucket('b', null, DATA) + 'event_definitions:\n  e:\n    payloads:\n      - UPDATE t SET a = 1\n',
  'events-payload-not-scalar': bucket('b', null, DATA) + 'event_definitions:\n  e:\n    payloads:\n      - [1]\n',
  'events-two-same-table': bucket('b', null, DATA) + 'event_definitions:\n  e:\n    payloads:\n      - SELECT id FROM t\n      - SELECT a FROM t\n',
  'events-join': bucket('b', null, DATA) + 'event_definitions:\n  e:\n    payloads:\n      - SELECT t.id FROM t, u\n',
  'stream-unknown-key': streams3({ s: { auto_subscribe: true, nope: 1, query: DATA } }),
  'stream-no-query': streams3({ s: { auto_subscribe: true } }),
  'stream-query-and-queries': streams3({ s: { query: DATA, queries: [DATA] } }),
  'stream-queries-two': streams3({ s: { auto_subscribe: true, queries: [DATA, 'SELECT id FROM u'] } }),
  'stream-queries-same-table': streams3({ s: { auto_subscribe: true, queries: [DATA, 'SELECT id, a FROM t'] } }),
  'stream-auto-text': streams3({ s: { auto_subscribe: "'yes'", query: DATA } }),
  'stream-priority-5': streams3({ s: { priority: 5, query: DATA } }),
  'stream-priority-text': streams3({ s: { priority: "'x'", query: DATA } }),
  'stream-dangerous-ok': streams3({ s: { accept_potentially_dangerous_queries: true, query: "SELECT id FROM t WHERE owner = subscription.parameter('o')" } }),
  'stream-dangerous': streams3({ s: { query: "SELECT id FROM t WHERE owner = subscription.parameter('o')" } }),
  'stream-dangerous-connection': streams3({ s: { query: "SELECT id FROM t WHERE owner = connection.parameter('o')" } }),
  'stream-auto-subscription-param': streams3({ s: { auto_subscribe: true, query: "SELECT id FROM t WHERE owner = subscription.parameter('o')" } }),
  'stream-cte-unused': streams3({ s: { auto_subscribe: true, with: '\n      mine: SELECT t_id FROM u WHERE user_id = auth.user_id()', query: DATA } }),
  'stream-cte-used': streams3({ s: { auto_subscribe: true, with: '\n      mine: SELECT t_id FROM u WHERE user_id = auth.user_id()', query: 'SELECT id FROM t WHERE id IN mine' } }),
  'stream-cte-two-columns': streams3({ s: { auto_subscribe: true, with: '\n      mine: SELECT t_id, id FROM u WHERE user_id = auth.user_id()', query: 'SELECT id FROM t WHERE id IN mine' } }),
  'stream-cte-star': streams3({ s: { auto_subscribe: true, with: '\n      mine: SELECT * FROM u WHERE user_id = auth.user_id()', query: 'SELECT id FROM t WHERE id IN mine' } }),
  'stream-cte-not-select': streams3({ s: { auto_subscribe: true, with: '\n      mine: UPDATE u SET id = 1', query: 'SELECT id FROM t WHERE id IN mine' } }),
  'stream-cte-bad-sql': streams3({ s: { auto_subscribe: true, with: '\n      mine: SELECT FROM', query: 'SELECT id FROM t WHERE id IN mine' } }),
  'stream-with-not-map': streams3({ s: { auto_subscribe: true, with: 3, query: DATA } }),
  'stream-and-bucket-same-name': streams3({ b: { auto_subscribe: true, query: DATA } }) + bucket('b', null, DATA),
  'stream-s2-cte': streams2({ s: { auto_subscribe: true, with: '\n      mine: SELECT t_id FROM u WHERE user_id = auth.user_id()', query: 'SELECT id FROM t WHERE id IN mine' } }),
  'stream-name-quoted': streams3({ '"s x"': { auto_subscribe: true, query: DATA } }),
  'stream-not-map': 'config:\n  edition: 3\nstreams:\n  s: 3\n',
  'streams-not-map': 'config:\n  edition: 3\nstreams: 3\n',
  'global-with': 'config:\n  edition: 3\nwith:\n  mine: SELECT t_id FROM u WHERE user_id = auth.user_id()\nstreams:\n  s:\n    auto_subscribe: true\n    query: SELECT id FROM t WHERE id IN mine\n',
  'global-with-unused': 'config:\n  edition: 3\nwith:\n  mine: SELECT t_id FROM u WHERE user_id = auth.user_id()\nstreams:\n  s:\n    auto_subscribe: true\n    query: SELECT id FROM t\n',
  // a common table expression's problem, used by two streams; one referring to itself
  'cte-reported-once': "config:\n  edition: 3\nwith:\n  mine: SELECT t_id FROM u WHERE role LIKE 'a%'\n  loop: SELECT t_id FROM u WHERE t_id IN loop\nstreams:\n  a:\n    query: SELECT * FROM t WHERE id IN mine\n  b:\n    query: SELECT * FROM t WHERE id IN mine OR id IN loop\n",
  'cte-in-from': 'config:\n  edition: 3\nstreams:\n  s:\n    auto_subscribe: true\n    with:\n      mine: SELECT id, owner FROM t WHERE owner IS NOT NULL\n    query: SELECT * FROM mine WHERE owner = auth.user_id()\n',
  'cte-in-subquery-from': 'config:\n  edition: 3\nstreams:\n  s:\n    auto_subscribe: true\n    with:\n      mine: SELECT t_id, user_id FROM u\n    query: SELECT * FROM t WHERE id IN (SELECT t_id FROM mine WHERE user_id = auth.user_id())\n',
  'cte-unknown-table': 'config:\n  edition: 3\nwith:\n  mine: SELECT t_id FROM nope WHERE user_id = auth.user_id()\nstreams:\n  s:\n    query: SELECT id FROM t WHERE id IN mine\n'
};
for (const [name, yaml] of Object.entries(YAML)) {
  add('yaml', name, yaml, false);
}

export default cases;
