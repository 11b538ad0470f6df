// IN and NOT IN with lists, ARRAY[...] and ROW(...), in result columns and in WHERE, for bucket definitions and
// both stream editions: which forms each accepts, and what they evaluate to with NULLs around.
import * as fs from 'node:fs';
import { globalBucket, streams2, streams3 } from '../lib.mjs';

const VALID = process.env.SYNCLINE_ORACLE_VALID
  ? new Set(JSON.parse(fs.readFileSync(process.env.SYNCLINE_ORACLE_VALID, 'utf8')))
  : new Set();

const ROWS = {
  a: { id: 'r1', kind: 'a', n: null, i: 2n },
  x: { id: 'r2', kind: 'x', n: null, i: 5n },
  nul: { id: 'r3', kind: null, n: null, i: null }
};

const RHS = ["('a', 'b')", "('a')", "ARRAY['a', 'b']", "ARRAY['a', NULL]", "ARRAY[]", "ROW('a', 'b')",
  "ARRAY['b', NULL]", "('a', NULL)", "'[\"a\",\"b\"]'"];
const LEFT = ['kind', 'n', 'i'];

const FLAVORS = {
  b: (sel, where) => globalBucket(`SELECT id${sel} FROM t${where}`),
  s2: (sel, where) => streams2({ s: { auto_subscribe: true, query: `SELECT id${sel} FROM t${where}` } }),
  s3: (sel, where) => streams3({ s: { auto_subscribe: true, query: `SELECT id${sel} FROM t${where}` } })
};

function slug(s) {
  return s.replace(/[^a-zA-Z0-9]+/g, '_').replace(/^_|_$/g, '').slice(0, 60);
}

const cases = [];
const seen = new Set();
function add(group, flavor, sel, where, label) {
  const yaml = FLAVORS[flavor](sel, where);
  const base = `${group}-${flavor}-${slug(label)}`;
  let id = base;
  for (let n = 2; seen.has(id); n++) id = `${base}-${n}`;
  seen.add(id);
  cases.push({ id, description: `${label} (${flavor}): accepted or refused`, kind: 'compile', yaml });
  if (!VALID.has(id)) return;
  for (const [rowName, row] of Object.entries(ROWS)) {
    cases.push({ id: `${id}-${rowName}`, description: `${label} (${flavor}), row ${rowName}`, kind: 'row', yaml,
      allow_warnings: flavor == 's2', input: { table: 't', row } });
  }
}

for (const flavor of ['b', 's2', 's3']) {
  for (const left of LEFT) {
    for (const rhs of RHS) {
      for (const op of ['IN', 'NOT IN']) {
        const e = `${left} ${op} ${rhs}`;
        add('col', flavor, `, ${e} AS v`, '', `column ${e}`);
        add('where', flavor, '', ` WHERE ${e}`, `where ${e}`);
      }
    }
  }
}

export default cases;
