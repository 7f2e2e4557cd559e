/**
 * EMULATOR: the subset of OData's $filter that Business Central's API takes,
 * parsed and evaluated over in-memory records. Like BC, which turns a $filter
 * into AL field filters, it refuses an `or` that spans two different fields.
 * Text compares ordinally (case-sensitive), as the connector assumes BC does;
 * GUIDs order the way SQL Server orders uniqueidentifier values, not as text.
 */
import { comparisonHolds, isComparisonOp, type ComparisonOp, type Literal } from '../common/odata-comparison';

export type EdmType = 'Edm.Guid' | 'Edm.String' | 'Edm.Decimal' | 'Edm.Int32' | 'Edm.Boolean' | 'Edm.DateTimeOffset' | 'Edm.Date';

export type FilterNode =
  | { kind: 'compare'; field: string; op: ComparisonOp; value: Literal }
  | { kind: 'function'; name: 'contains' | 'startswith' | 'endswith'; field: string; value: string }
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode };

/** A $filter the service refuses: answered with 400 and this message. */
export class FilterError extends Error {
  override readonly name = 'FilterError';
}

type Token = { kind: 'word' | 'string' | 'punct' | 'literal'; text: string };

const LITERAL_PATTERNS: [RegExp, (text: string) => Literal][] = [
  [/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2})/, (t) => ({ type: 'datetime', value: t })],
  [/^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}/, (t) => ({ type: 'guid', value: t.toLowerCase() })],
  [/^-?\d+(\.\d+)?([eE][+-]?\d+)?/, (t) => ({ type: 'number', value: Number(t) })],
];

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (c === ' ') {
      i++;
      continue;
    }
    if (c === '(' || c === ')' || c === ',') {
      tokens.push({ kind: 'punct', text: c });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      i++;
      for (;;) {
        if (i >= text.length) throw new FilterError('Unterminated string literal in $filter.');
        if (text[i] === "'") {
          if (text[i + 1] === "'") {
            value += "'";
            i += 2;
            continue;
          }
          i++;
          break;
        }
        value += text[i++];
      }
      tokens.push({ kind: 'string', text: value });
      continue;
    }
    const rest = text.slice(i);
    const literal = LITERAL_PATTERNS.find(([re]) => re.test(rest));
    if (literal) {
      const m = literal[0].exec(rest) as RegExpExecArray;
      tokens.push({ kind: 'literal', text: m[0] });
      i += m[0].length;
      continue;
    }
    const word = /^[A-Za-z_][A-Za-z0-9_]*/.exec(rest);
    if (!word) throw new FilterError(`Syntax error at position ${i} in $filter.`);
    tokens.push({ kind: 'word', text: word[0] });
    i += word[0].length;
  }
  return tokens;
}

const FUNCTIONS = new Set(['contains', 'startswith', 'endswith']);

export function parseFilter(text: string): FilterNode {
  const tokens = tokenize(text);
  let at = 0;
  const peek = (): Token | undefined => tokens[at];
  const take = (): Token => {
    const t = tokens[at++];
    if (!t) throw new FilterError('Unexpected end of $filter.');
    return t;
  };
  const expect = (text: string): void => {
    const t = take();
    if (t.text !== text) throw new FilterError(`Expected "${text}" in $filter, found "${t.text}".`);
  };
  const literalOf = (t: Token): Literal => {
    if (t.kind === 'string') return { type: 'string', value: t.text };
    if (t.kind === 'literal') {
      const [, make] = LITERAL_PATTERNS.find(([re]) => re.test(t.text)) as [RegExp, (x: string) => Literal];
      return make(t.text);
    }
    if (t.kind === 'word' && (t.text === 'true' || t.text === 'false')) return { type: 'boolean', value: t.text === 'true' };
    if (t.kind === 'word' && t.text === 'null') return { type: 'null' };
    throw new FilterError(`Expected a literal in $filter, found "${t.text}".`);
  };
  const primary = (): FilterNode => {
    const t = take();
    if (t.text === '(') {
      const inner = orExpr();
      expect(')');
      return inner;
    }
    if (t.kind === 'word' && t.text === 'not') return { kind: 'not', operand: primary() };
    if (t.kind === 'word' && FUNCTIONS.has(t.text)) {
      expect('(');
      const field = take();
      if (field.kind !== 'word') throw new FilterError(`${t.text} needs a property as its first argument.`);
      expect(',');
      const value = take();
      if (value.kind !== 'string') throw new FilterError(`${t.text} needs a text literal as its second argument.`);
      expect(')');
      return { kind: 'function', name: t.text as 'contains' | 'startswith' | 'endswith', field: field.text, value: value.text };
    }
    if (t.kind !== 'word') throw new FilterError(`Expected a property in $filter, found "${t.text}".`);
    const op = take();
    if (op.text === 'in') throw new FilterError("The 'in' operator needs $schemaversion=2.1.");
    if (!isComparisonOp(op.text)) throw new FilterError(`Unknown operator "${op.text}" in $filter.`);
    return { kind: 'compare', field: t.text, op: op.text, value: literalOf(take()) };
  };
  const andExpr = (): FilterNode => {
    let left = primary();
    while (peek()?.text === 'and') {
      take();
      left = { kind: 'and', left, right: primary() };
    }
    return left;
  };
  const orExpr = (): FilterNode => {
    let left = andExpr();
    while (peek()?.text === 'or') {
      take();
      left = { kind: 'or', left, right: andExpr() };
    }
    return left;
  };
  const tree = orExpr();
  if (at !== tokens.length) throw new FilterError(`Unexpected "${tokens[at].text}" in $filter.`);
  return tree;
}

export function fieldsOf(node: FilterNode): Set<string> {
  switch (node.kind) {
    case 'compare':
    case 'function':
      return new Set([node.field]);
    case 'not':
      return fieldsOf(node.operand);
    default:
      return new Set([...fieldsOf(node.left), ...fieldsOf(node.right)]);
  }
}

/** BC's restriction: an `or` may only combine conditions on one field. Returns the offending fields, or null. */
export function crossFieldOr(node: FilterNode): string[] | null {
  switch (node.kind) {
    case 'compare':
    case 'function':
      return null;
    case 'not':
      return crossFieldOr(node.operand);
    case 'and':
      return crossFieldOr(node.left) ?? crossFieldOr(node.right);
    case 'or': {
      const fields = fieldsOf(node);
      if (fields.size > 1) return [...fields];
      return crossFieldOr(node.left) ?? crossFieldOr(node.right);
    }
  }
}

/** SQL Server's uniqueidentifier order: the last group first, then the fourth, then the first three. */
export function sqlGuidKey(guid: string): string {
  const g = guid.toLowerCase().split('-');
  return g.length === 5 ? `${g[4]}${g[3]}${g[2]}${g[1]}${g[0]}` : guid.toLowerCase();
}

/** Compares two stored values of a property of type `type`. */
export function compareValues(type: EdmType, a: unknown, b: unknown): number {
  if (a === b) return 0;
  if (a === null || a === undefined) return -1;
  if (b === null || b === undefined) return 1;
  switch (type) {
    case 'Edm.Guid': {
      const x = sqlGuidKey(String(a));
      const y = sqlGuidKey(String(b));
      return x < y ? -1 : x > y ? 1 : 0;
    }
    case 'Edm.DateTimeOffset':
      return Math.sign(Date.parse(String(a)) - Date.parse(String(b)));
    case 'Edm.Decimal':
    case 'Edm.Int32':
      return Math.sign(Number(a) - Number(b));
    case 'Edm.Boolean':
      return Number(a) - Number(b);
    default: {
      const x = String(a);
      const y = String(b);
      return x < y ? -1 : x > y ? 1 : 0;
    }
  }
}

function literalValue(type: EdmType, literal: Literal, field: string): unknown {
  if (literal.type === 'null') return null;
  const wrong = (): never => {
    throw new FilterError(`A ${literal.type} literal cannot be compared with '${field}' (${type}).`);
  };
  switch (type) {
    case 'Edm.Guid':
      return literal.type === 'guid' ? literal.value : wrong();
    case 'Edm.DateTimeOffset':
      return literal.type === 'datetime' ? literal.value : wrong();
    case 'Edm.Decimal':
    case 'Edm.Int32':
      return literal.type === 'number' ? literal.value : wrong();
    case 'Edm.Boolean':
      return literal.type === 'boolean' ? literal.value : wrong();
    default:
      return literal.type === 'string' ? literal.value : wrong();
  }
}

/** Checks the filter's properties and literal types against the entity's properties (throws FilterError). */
export function checkFilter(node: FilterNode, types: Readonly<Record<string, EdmType>>, entityType: string): void {
  switch (node.kind) {
    case 'compare':
    case 'function': {
      const type = types[node.field];
      if (!type) throw new FilterError(`Could not find a property named '${node.field}' on type 'Microsoft.NAV.${entityType}'.`);
      if (node.kind === 'compare') literalValue(type, node.value, node.field);
      else if (type !== 'Edm.String') throw new FilterError(`${node.name} needs a text property; '${node.field}' is ${type}.`);
      return;
    }
    case 'not':
      return checkFilter(node.operand, types, entityType);
    default:
      checkFilter(node.left, types, entityType);
      checkFilter(node.right, types, entityType);
  }
}

export function evaluate(node: FilterNode, record: Readonly<Record<string, unknown>>, types: Readonly<Record<string, EdmType>>): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, record, types) && evaluate(node.right, record, types);
    case 'or':
      return evaluate(node.left, record, types) || evaluate(node.right, record, types);
    case 'not':
      return !evaluate(node.operand, record, types);
    case 'function': {
      const value = String(record[node.field] ?? '');
      if (node.name === 'contains') return value.includes(node.value);
      if (node.name === 'startswith') return value.startsWith(node.value);
      return value.endsWith(node.value);
    }
    case 'compare': {
      const type = types[node.field];
      const actual = record[node.field] ?? null;
      const expected = literalValue(type, node.value, node.field);
      if (expected === null) return node.op === 'eq' ? actual === null : node.op === 'ne' ? actual !== null : false;
      if (actual === null) return node.op === 'ne';
      // Equality needs no order: a cheap test keeps long `eq` OR lists fast.
      if ((node.op === 'eq' || node.op === 'ne') && type !== 'Edm.DateTimeOffset') {
        const same = type === 'Edm.Guid' ? String(actual).toLowerCase() === String(expected).toLowerCase() : actual === expected;
        return node.op === 'eq' ? same : !same;
      }
      return comparisonHolds(node.op, compareValues(type, actual, expected));
    }
  }
}
