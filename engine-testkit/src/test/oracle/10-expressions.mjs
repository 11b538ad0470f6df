// Expressions, enumerated: every SQL function of the reference (bucket definitions and both stream editions),
// every operator and CAST, over source rows holding each SQLite type and NULL. Each expression is asked in three
// flavors: a bucket definition's data query (edition 1), an edition-2 stream and an edition-3 stream. Each is a
// compile case (accepted, or refused with the reference's diagnostics) and, where it compiles, row cases.
import * as fs from 'node:fs';
import { globalBucket, streams2, streams3, blob } from '../lib.mjs';

// regenerate.sh runs the corpus twice: first compile cases only, then (with the ids the reference compiled
// cleanly) the row cases of those too.
const VALID = process.env.SYNCLINE_ORACLE_VALID
  ? new Set(JSON.parse(fs.readFileSync(process.env.SYNCLINE_ORACLE_VALID, 'utf8')))
  : new Set();

const ROWS = {
  typed: { id: 'r1', i: 7n, r: 2.5, t: 'Hello', n: null, j: '{"a":1,"b":[1,2,3],"c":"x","d":null,"e":{"f":2.5}}',
    b: blob('cafe00'), z: 0n, m: -3n, u: '5b6e3d2a-1c4f-4e8a-9b7d-0a1b2c3d4e5f', dt: '2024-02-03 04:05:06',
    g: '0101000000000000000000F03F0000000000000040', big: 9007199254740993n, txt1: '12', txtf: '1.5e3', e: '' },
  nulls: { id: 'r2', i: null, r: null, t: null, n: null, j: null, b: null, z: null, m: null, u: null, dt: null, g: null,
    big: null, txt1: null, txtf: null, e: null }
};

const CALLS = [
  'upper(t)', 'upper(i)', 'upper(r)', 'upper(b)', 'upper(n)', 'lower(t)', 'lower(big)', 'lower(j)',
  'substring(t, 2)', 'substring(t, 2, 3)', 'substring(t, -2)', 'substring(t, 0, 2)', 'substring(t, 1, 0)',
  'substring(t, 10)', 'substring(i, 1, 1)', 'substring(t, r)', 'substring(t, 2, -1)', 'substring(n, 1)',
  'substring(t, n)', 'substring(b, 1, 2)',
  'hex(t)', 'hex(i)', 'hex(r)', 'hex(b)', 'hex(n)', 'hex(e)', 'hex(m)',
  'length(t)', 'length(i)', 'length(r)', 'length(b)', 'length(n)', 'length(j)', 'length(e)', 'length(m)',
  'base64(t)', 'base64(b)', 'base64(n)', 'base64(i)', 'base64(e)',
  'uuid_blob(u)', 'uuid_blob(n)', 'hex(uuid_blob(u))',
  'typeof(i)', 'typeof(r)', 'typeof(t)', 'typeof(n)', 'typeof(b)', 'typeof(j)', 'typeof(big)', 'typeof(1)',
  'typeof(1.5)', "typeof('x')", 'typeof(NULL)', 'typeof(TRUE)',
  'ifnull(n, t)', 'ifnull(t, n)', 'ifnull(n, n)', 'ifnull(i, t)', 'ifnull(n, 3)',
  "iif(i, 'yes', 'no')", "iif(z, 'yes', 'no')", "iif(n, 'yes', 'no')", "iif(t, 'yes', 'no')",
  "iif(r, 'yes', 'no')", "iif(txt1, 'yes', 'no')", 'iif(m, t, n)',
  "instr(t, 'l')", "instr(t, 'z')", "instr(n, 'a')", 'instr(t, n)', "instr(i, '7')", "instr(t, '')",
  "instr(b, 'x')",
  "json_extract(j, '$.a')", "json_extract(j, '$.b')", "json_extract(j, '$.c')", "json_extract(j, '$.d')",
  "json_extract(j, '$.x')", "json_extract(j, '$.e')", "json_extract(j, '$.e.f')", "json_extract(j, '$.b[1]')",
  "json_extract(n, '$.a')", "json_extract(j, '$')", "json_extract(j, n)",
  'json_array_length(j)', "json_array_length(j, '$.b')", "json_array_length('[1,2,3]')",
  'json_array_length(n)', "json_array_length(j, '$.a')", "json_array_length('[]')",
  'json_valid(j)', 'json_valid(t)', 'json_valid(n)', 'json_valid(i)', "json_valid('[1')", 'json_valid(e)',
  'json_keys(j)', 'json_keys(n)', "json_keys('{}')",
  'unixepoch(dt)', "unixepoch(dt, 'subsec')", 'unixepoch(i)', 'unixepoch(n)', 'unixepoch(t)',
  "unixepoch('2024-01-01T00:00:00.123Z', 'subsec')", "unixepoch(r, 'unixepoch')", "unixepoch(i, 'unixepoch')",
  'datetime(dt)', "datetime(i, 'unixepoch')", 'datetime(n)', 'datetime(t)', "datetime(r, 'unixepoch')",
  "datetime(dt, 'subsec')", "datetime('2024-01-01T00:00:00.5Z')", "datetime(1700000000, 'unixepoch', 'subsec')",
  'st_astext(g)', 'st_asgeojson(g)', 'st_x(g)', 'st_y(g)', 'st_x(n)', 'st_astext(n)'
];

const OPERANDS = ['i', 'r', 't', 'n', 'z', 'm', 'txt1', 'big', '2', '2.5', "'2'", 'NULL'];
const BINARY = ['+', '-', '*', '/', '%', '&', '|', '<<', '>>', '||', '=', '!=', '<>', '<', '>', '<=', '>=', 'AND', 'OR', 'IS', 'IS NOT'];
const PAIRS = [['i', 'r'], ['i', 'z'], ['t', 'i'], ['n', 'i'], ['i', 'n'], ['txt1', 'i'], ['big', '1'], ['m', '2'],
  ['r', "'2'"], ['t', 't'], ['n', 'n'], ['2', '2.5'], ["'a'", "'b'"]];
const OPERATORS = [];
for (const op of BINARY) for (const [a, b] of PAIRS) OPERATORS.push(`(${a} ${op} ${b})`);
const UNARY = [];
for (const a of OPERANDS) {
  UNARY.push(`(NOT ${a})`, `(${a} IS NULL)`, `(${a} IS NOT NULL)`, `(- ${a})`);
}
const CASTS = [];
for (const a of ['i', 'r', 't', 'n', 'b', 'txt1', 'txtf', 'big', 'm', 'j', 'e']) {
  for (const type of ['text', 'integer', 'real', 'numeric', 'blob']) CASTS.push(`CAST(${a} AS ${type})`);
}
const MEMBERS = ["j -> 'a'", "j ->> 'a'", "j -> 'b'", "j ->> 'b'", "j -> 'c'", "j ->> 'c'", "j -> 'd'", "j ->> 'x'",
  "j -> '$.e.f'", "j ->> '$.b[0]'", "n -> 'a'", "t -> 'a'", "j -> 'e' -> 'f'", "(j -> 'e') ->> 'f'"];
const LISTS = ["i IN (1, 7)", "i IN (1, 2)", "n IN (1, 2)", "t IN ('Hello', 'x')", "i NOT IN (1, 2)",
  "i IN (1, NULL)", "i NOT IN (1, NULL)", "i IN ('7')", "txt1 IN (12)"];
const CONDITIONALS = ["CASE WHEN i > 5 THEN 'big' ELSE 'small' END", "CASE i WHEN 7 THEN 'seven' END",
  "CASE WHEN n THEN 1 END", "CASE n WHEN NULL THEN 1 ELSE 2 END", "i BETWEEN 1 AND 10", "i NOT BETWEEN 1 AND 5",
  "n BETWEEN 1 AND 2", "t BETWEEN 'A' AND 'Z'"];

const FLAVORS = {
  b: (e) => globalBucket(`SELECT id, ${e} AS v FROM t`),
  s2: (e) => streams2({ s: { auto_subscribe: true, query: `SELECT id, ${e} AS v FROM t` } }),
  s3: (e) => streams3({ s: { auto_subscribe: true, query: `SELECT id, ${e} AS v FROM t` } })
};

function slug(s) {
  return s.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60);
}

const cases = [];
const seen = new Set();
function add(group, expr, flavors, rowsFor) {
  for (const flavor of flavors) {
    const yaml = FLAVORS[flavor](expr);
    const base = `${group}-${flavor}-${slug(expr)}`;
    let id = base;
    for (let n = 2; seen.has(id); n++) id = `${base}-${n}`;
    seen.add(id);
    cases.push({ id, description: `${expr} as a result column (${flavor}): accepted or refused`, kind: 'compile', yaml });
    if (!VALID.has(id)) continue;
    for (const rowName of rowsFor) {
      cases.push({
        id: `${id}-${rowName}`,
        description: `${expr} as a result column (${flavor}), row with ${rowName} values`,
        kind: 'row',
        yaml,
        allow_warnings: flavor == 's2',
        input: { table: 't', row: ROWS[rowName] }
      });
    }
  }
}

for (const e of CALLS) add('fn', e, ['b', 's2', 's3'], ['typed', 'nulls']);
for (const e of OPERATORS) add('op', e, ['b', 's2', 's3'], ['typed']);
for (const e of UNARY) add('unary', e, ['b', 's2', 's3'], ['typed']);
for (const e of CASTS) add('cast', e, ['b', 's3'], ['typed']);
for (const e of MEMBERS) add('member', e, ['b', 's2', 's3'], ['typed']);
for (const e of LISTS) add('list', e, ['b', 's2', 's3'], ['typed']);
for (const e of CONDITIONALS) add('cond', e, ['b', 's2', 's3'], ['typed']);

export default cases;
