// Sync-rules 0.39-0.40 (PowerSync Service 1.25): wildcard schemas ("%".table) with the row metadata functions
// schema(), table_name() and table_suffix(), and the warning for an aliased primary table in a join. The pinned
// oracle (0.38.1) predates them: these vectors come from the reference built from source at v1.25.0 (see
// ../regenerate.sh). Compile cases, rows from tables in several schemas, parameter rows and requests.
import { globalBucket, streams2, streams3 } from '../lib.mjs';

const SCHEMA = [
  { table: 'comments', schema: 'tenant_a', columns: [['id', 'text'], ['issue_id', 'text'], ['body', 'text']] },
  { table: 'comments', schema: 'tenant_b', columns: [['id', 'text'], ['issue_id', 'text'], ['body', 'text']] },
  { table: 'comments', columns: [['id', 'text'], ['issue_id', 'text'], ['body', 'text']] },
  { table: 'issues', schema: 'tenant_a', columns: [['id', 'text'], ['owner', 'text']] },
  { table: 'users', columns: [['id', 'text'], ['name', 'text'], ['org_id', 'text']] },
  { table: 'orgs', columns: [['id', 'text'], ['owner_id', 'text']] }
];

const s3 = (query, extra = {}) => streams3({ s: { auto_subscribe: true, query, ...extra } });
const TENANT = "auth.parameter('tenant_schema')";

const COMPILE = {
  by_schema: `SELECT * FROM "%".comments WHERE comments.schema() = ${TENANT}`,
  by_schema_upper: `SELECT * FROM "%".comments WHERE comments.SCHEMA() = ${TENANT}`,
  unknown_metadata: 'SELECT * FROM users WHERE users.unknown() = 1',
  schema_args: "SELECT * FROM users WHERE users.schema('x') = 'a'",
  table_name_args: 'SELECT * FROM users WHERE users.table_name(1) = 1',
  schema_plain: "SELECT * FROM users WHERE users.schema() = 'a'",
  table_name_plain: "SELECT * FROM users WHERE users.table_name() = 'users'",
  other_table: "SELECT * FROM users WHERE other.schema() = 'a'",
  suffix_plain: "SELECT * FROM users WHERE users.table_suffix() = 's'",
  suffix_wildcard: "SELECT * FROM \"user%\" u WHERE u.table_suffix() = 's'",
  unqualified_schema: "SELECT * FROM users WHERE schema() = 'a'",
  unqualified_table_name: "SELECT * FROM users WHERE table_name() = 'a'",
  schema_column: 'SELECT id, users.schema() AS tenant FROM users',
  table_name_column: 'SELECT id, u.table_name() AS source_table FROM "user%" u',
  suffix_column: 'SELECT id, users.table_suffix() AS suffix FROM "user%" users',
  schema_by_table_name: 'SELECT id, users.schema() AS tenant FROM "%".users u',
  schema_alias: 'SELECT id, u.schema() AS tenant FROM "%".users u',
  schema_prefix: `SELECT * FROM "tenant_%".comments WHERE comments.schema() = ${TENANT}`,
  both_wildcards: 'SELECT id, c.schema() AS s, c.table_suffix() AS x FROM "%"."comm%" c',
  schema_in_function: `SELECT * FROM "%".comments WHERE upper(comments.schema()) = ${TENANT}`,
  schema_in_array: "SELECT * FROM \"%\".comments WHERE comments.schema() IN auth.parameter('schemas')",
  schema_subscription: "SELECT * FROM \"%\".comments WHERE comments.schema() = subscription.parameter('s')",
  schema_static: "SELECT * FROM \"%\".comments WHERE comments.schema() = 'tenant_a'",
  schema_and_column: `SELECT * FROM "%".comments WHERE comments.schema() = ${TENANT} AND comments.issue_id = subscription.parameter('i')`,
  schema_lookup: `SELECT * FROM comments WHERE issue_id IN (SELECT id FROM "%".issues WHERE issues.schema() = ${TENANT})`,
  schema_lookup_output: `SELECT * FROM "%".comments WHERE comments.schema() IN (SELECT issues.schema() FROM "%".issues WHERE issues.owner = auth.user_id())`,
  schema_json_each: "SELECT users.* FROM users, json_each(auth.parameter('x')) AS j WHERE j.schema() = 'a'",
  request_schema: "SELECT * FROM users WHERE request.schema() = 'a'",
  auth_schema: "SELECT * FROM users WHERE auth.schema() = 'a'",
  schema_with_param: "SELECT * FROM users WHERE users.schema() = auth.parameter('x') AND users.id = 'a'",
  schema_vs_param_in_expr: "SELECT * FROM users WHERE users.schema() || auth.parameter('x') = 'a'",
  join_same_schema: 'SELECT c.* FROM "%".comments c, "%".issues i WHERE c.issue_id = i.id AND i.owner = auth.user_id()',
  join_schema_eq: 'SELECT comments.* FROM "%".comments, "%".issues WHERE comments.issue_id = issues.id AND comments.schema() = issues.schema() AND issues.owner = auth.user_id()',
  schema_quoted: 'SELECT * FROM "%"."comments"',
  schema_tag: 'SELECT * FROM "default.%".comments',
  // 0.39: an aliased primary table in a join
  alias_join: 'SELECT cm.* FROM comments cm INNER JOIN issues ON cm.issue_id = issues.id WHERE issues.owner = auth.user_id()',
  alias_join_quoted: 'SELECT users.* FROM orgs AS "users", issues WHERE users.id = issues.owner',
  alias_join_both: 'SELECT u.* FROM users u INNER JOIN orgs o ON u.org_id = o.id WHERE o.owner_id = auth.user_id()',
  alias_no_join: 'SELECT u.* FROM users u WHERE u.id = auth.user_id()',
  alias_comma_join: 'SELECT u.* FROM users u, orgs WHERE u.org_id = orgs.id AND orgs.owner_id = auth.user_id()',
  alias_as_join: 'SELECT u.* FROM users AS u JOIN orgs ON u.org_id = orgs.id WHERE orgs.owner_id = auth.user_id()',
  alias_same_name: 'SELECT users.* FROM users users, orgs WHERE users.org_id = orgs.id AND orgs.owner_id = auth.user_id()',
  alias_wildcard_join: 'SELECT c.* FROM "%".comments c, issues WHERE c.issue_id = issues.id AND issues.owner = auth.user_id()'
};

const cases = [];
for (const [name, query] of Object.entries(COMPILE)) {
  cases.push({ id: `ws-s3-${name}`, description: `edition-3 stream: ${query}`, kind: 'compile', schema: SCHEMA,
    yaml: s3(query) });
}
// A subquery in FROM is no table either.
cases.push({ id: 'ws-s3-schema_view', description: 'schema() of a subquery in FROM', kind: 'compile', schema: SCHEMA,
  yaml: s3("SELECT * FROM (SELECT * FROM users) AS s WHERE s.schema() = 'a'") });
cases.push({ id: 'ws-s3-table_name_view', description: 'table_name() of a subquery in FROM, in a result column',
  kind: 'compile', schema: SCHEMA, yaml: s3('SELECT id, s.table_name() AS n FROM (SELECT id FROM users) AS s') });
// A common table expression is no table: it has no metadata.
cases.push({ id: 'ws-s3-schema_cte', description: 'schema() of a common table expression', kind: 'compile',
  schema: SCHEMA, yaml: `config:
  edition: 3

streams:
  s:
    auto_subscribe: true
    with:
      i: SELECT id FROM "%".issues
    query: SELECT * FROM comments WHERE issue_id IN (SELECT id FROM i WHERE i.schema() = 'a')
` });
cases.push({ id: 'ws-s3-table_name_joined_cte', description: 'table_name() of a joined common table expression',
  kind: 'compile', schema: SCHEMA, yaml: `config:
  edition: 3

streams:
  s:
    auto_subscribe: true
    with:
      mine: SELECT id FROM "%".issues
    query: SELECT comments.* FROM comments, mine WHERE comments.issue_id = mine.id AND mine.table_name() = 'issues'
` });
cases.push({ id: 'ws-s3-schema_subquery_table', description: 'schema() of a table in a subquery', kind: 'compile',
  schema: SCHEMA, yaml: s3(`SELECT * FROM comments WHERE issue_id IN (SELECT id FROM "%".issues i WHERE i.schema() = 'tenant_a')`) });
// The older compilers: a schema wildcard is a table pattern like any other; the metadata functions are not theirs.
for (const [name, query] of Object.entries({
  star: 'SELECT * FROM "%".comments',
  metadata: "SELECT * FROM \"%\".comments WHERE comments.schema() = 'a'",
  suffix_column: 'SELECT _table_suffix AS s, id FROM "%"."comm%"'
})) {
  cases.push({ id: `ws-b-${name}`, description: `bucket definition: ${query}`, kind: 'compile', schema: SCHEMA,
    yaml: globalBucket(query) });
  cases.push({ id: `ws-s2-${name}`, description: `edition-2 stream: ${query}`, kind: 'compile', schema: SCHEMA,
    yaml: streams2({ s: { auto_subscribe: true, query } }), allow_warnings: true });
}

const TABLES = [
  ['a', { name: 'comments', schema: 'tenant_a' }],
  ['b', { name: 'comments', schema: 'tenant_b' }],
  ['pub', { name: 'comments', schema: 'public' }],
  ['other', { name: 'comments', schema: 'other' }],
  ['commentsx', { name: 'comments_x', schema: 'tenant_a' }],
  ['users', { name: 'users', schema: 'tenant_a' }]
];
const ROW = { id: 'c1', issue_id: 'i1', body: 'hi' };
const ROW_QUERIES = {
  by_schema: s3(COMPILE.by_schema),
  schema_prefix: s3(COMPILE.schema_prefix),
  both_wildcards: s3(COMPILE.both_wildcards),
  schema_in_function: s3(COMPILE.schema_in_function),
  schema_static: s3(COMPILE.schema_static),
  schema_and_column: s3(COMPILE.schema_and_column),
  schema_columns: s3('SELECT id, comments.schema() AS s, comments.table_name() AS n, comments.table_suffix() AS x FROM "%".comments'),
  table_name_filter: s3("SELECT * FROM \"%\".\"comm%\" c WHERE c.table_name() = 'comments'"),
  star_only: s3('SELECT * FROM "%".comments'),
  bucket_def: globalBucket('SELECT * FROM "%".comments'),
  bucket_def_suffix: globalBucket('SELECT id, _table_suffix AS s FROM "%"."comm%"'),
  stream2: streams2({ s: { auto_subscribe: true, query: 'SELECT * FROM "%".comments' } })
};
// the first compiler's warnings: an alpha stream, a column the schema lacks
// (and table_suffix() of a table not selected with a wildcard name, which is always empty)
const WARNS = new Set(['bucket_def_suffix', 'stream2', 'schema_columns']);
for (const [qname, yaml] of Object.entries(ROW_QUERIES)) {
  for (const [tname, table] of TABLES) {
    cases.push({ id: `ws-row-${qname}-${tname}`, description: `${qname}, a row of ${table.schema}.${table.name}`,
      kind: 'row', schema: SCHEMA, yaml, input: { table, row: ROW }, allow_warnings: WARNS.has(qname) });
  }
}
cases.push({ id: 'ws-row-schema_column-users', description: 'schema() as a column of a plain table', kind: 'row',
  schema: SCHEMA, yaml: s3(COMPILE.schema_column), input: { table: 'users', row: { id: 'u1', name: 'x' } } });
cases.push({ id: 'ws-row-table_name_column-users', description: 'table_name() under an alias', kind: 'row',
  schema: SCHEMA, yaml: s3(COMPILE.table_name_column), input: { table: 'users', row: { id: 'u1' } } });
cases.push({ id: 'ws-row-suffix_column-users', description: 'table_suffix() of a wildcard table', kind: 'row',
  schema: SCHEMA, yaml: s3(COMPILE.suffix_column), input: { table: 'users', row: { id: 'u1' } } });

const LOOKUP = s3(COMPILE.schema_lookup);
for (const [tname, table] of [['a', { name: 'issues', schema: 'tenant_a' }], ['b', { name: 'issues', schema: 'tenant_b' }]]) {
  cases.push({ id: `ws-param-lookup-${tname}`, description: `issues row of ${table.schema} indexed by its schema`,
    kind: 'parameter_row', schema: SCHEMA, yaml: LOOKUP, input: { table, row: { id: 'i1', owner: 'u1' } } });
}
const LOOKUP_OUT = s3(COMPILE.schema_lookup_output);
cases.push({ id: 'ws-param-lookup_output-a', description: 'issues row whose schema is a bucket parameter',
  kind: 'parameter_row', schema: SCHEMA, yaml: LOOKUP_OUT,
  input: { table: { name: 'issues', schema: 'tenant_a' }, row: { id: 'i1', owner: 'u1' } } });

// A table-valued function's metadata: NULL when a request is resolved.
for (const [name, cond] of Object.entries({ eq: "j.schema() = 'public'", isnull: 'j.schema() IS NULL', empty: "j.schema() = ''",
  name_isnull: 'j.table_name() IS NULL' })) {
  const yaml = s3(`SELECT comments.* FROM comments, json_each(auth.parameter('ids')) AS j WHERE comments.id = j.value AND ${cond}`);
  cases.push({ id: `ws-each-${name}`, description: `json_each metadata: ${cond}`, kind: 'compile', schema: SCHEMA, yaml });
  cases.push({ id: `ws-each-${name}-row`, description: `json_each metadata: ${cond}, a row`, kind: 'row', schema: SCHEMA,
    yaml, input: { table: 'comments', row: ROW } });
  cases.push({ id: `ws-each-${name}-req`, description: `json_each metadata: ${cond}, a request`, kind: 'request',
    schema: SCHEMA, yaml, input: { jwt: { sub: 'u1', ids: ['c1'] }, parameters: {}, streams: { include_defaults: true, subscriptions: [] } } });
}

const request = (id, description, yaml, jwt, extra = {}) => cases.push({ id, description, kind: 'request',
  schema: SCHEMA, yaml, input: { jwt, parameters: {}, streams: { include_defaults: true, subscriptions: [] }, ...extra } });
request('ws-req-by_schema', 'buckets of the token\'s tenant schema', s3(COMPILE.by_schema), { sub: 'u1', tenant_schema: 'tenant_a' });
request('ws-req-by_schema-missing', 'no tenant claim', s3(COMPILE.by_schema), { sub: 'u1' });
request('ws-req-in_array', 'several schemas from a claim', s3(COMPILE.schema_in_array), { sub: 'u1', schemas: ['tenant_a', 'tenant_b'] });
request('ws-req-static', 'a fixed schema', s3(COMPILE.schema_static), { sub: 'u1' });
request('ws-req-lookup', 'issues of the tenant through the parameter index', LOOKUP, { sub: 'u1', tenant_schema: 'tenant_a' }, {
  parameter_rows: [{ table: { name: 'issues', schema: 'tenant_a' }, row: { id: 'i1', owner: 'u1' } },
    { table: { name: 'issues', schema: 'tenant_b' }, row: { id: 'i2', owner: 'u1' } }] });
request('ws-req-lookup_output', 'schemas of the user\'s issues', LOOKUP_OUT, { sub: 'u1' }, {
  parameter_rows: [{ table: { name: 'issues', schema: 'tenant_a' }, row: { id: 'i1', owner: 'u1' } },
    { table: { name: 'issues', schema: 'tenant_b' }, row: { id: 'i2', owner: 'u2' } }] });

export default cases;
