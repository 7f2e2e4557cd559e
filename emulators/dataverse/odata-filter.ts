/**
 * EMULATOR: the subset of Dataverse's OData $filter the Dataverse connector
 * uses (eq ne gt ge lt le, and or not, parentheses, null, contains /
 * startswith / endswith, Microsoft.Dynamics.CRM.In / NotIn with parameter
 * aliases) on strings, numbers, booleans, date-times and GUIDs, evaluated the
 * way Dataverse's SQL Server does it: strings compare without regard to case,
 * accents or trailing spaces; GUIDs sort in SQL Server's uniqueidentifier order,
 * not as strings; a comparison with null is false except `eq null` / `ne null`.
 * Independent of the connector's query builder, so a wrong query fails here.
 */
import { comparisonHolds, isComparisonOp, type ComparisonOp, type Literal } from '../common/odata-comparison';

export type AttributeType =
  'String' | 'Memo' | 'Uniqueidentifier' | 'DateTime' | 'Integer' | 'BigInt' | 'Decimal' | 'Double' | 'Money' | 'Picklist' | 'Boolean';

/** A request the emulated service refuses with 400, as Dataverse does for a malformed query. */
export class ODataQueryError extends Error {
  override readonly name = 'ODataQueryError';
  constructor(
    message: string,
    readonly code = '0x80060888',
  ) {
    super(message);
  }
}

export type FilterNode =
  | { kind: 'and' | 'or'; left: FilterNode; right: FilterNode }
  | { kind: 'not'; operand: FilterNode }
  | { kind: 'compare'; op: ComparisonOp; property: string; value: Literal }
  | { kind: 'text'; fn: 'contains' | 'startswith' | 'endswith'; property: string; pattern: string }
  | { kind: 'in'; negate: boolean; property: string; values: string[] };

type Token =
  | { t: '(' | ')' | ',' | '=' | '[' | ']'; at: number }
  | { t: 'literal'; value: Literal; at: number }
  | { t: 'json'; value: string; at: number }
  | { t: 'name'; value: string; at: number };

const GUID_RE = /[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}(?![\w-])/y;
const DATETIME_RE = /\d{4}-\d{2}-\d{2}(T\d{2}:\d{2}(:\d{2}(\.\d{1,7})?)?(Z|[+-]\d{2}:\d{2}))?(?![\w:.+-])/y;
const NUMBER_RE = /-?\d+(\.\d+)?([eE][+-]?\d+)?(?![\w.])/y;
const NAME_RE = /[@A-Za-z_][A-Za-z0-9_.]*/y;
export const GUID_PATTERN = /^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$/;

function sticky(re: RegExp, text: string, at: number): string | null {
  re.lastIndex = at;
  const m = re.exec(text);
  return m ? m[0] : null;
}

export function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if ('(),=[]'.includes(c)) {
      tokens.push({ t: c as '(' | ')' | ',' | '=' | '[' | ']', at: i });
      i++;
      continue;
    }
    if (c === "'") {
      let value = '';
      let j = i + 1;
      for (;;) {
        if (j >= text.length) throw new ODataQueryError(`There is an unterminated literal at position ${i} in '${text}'.`);
        if (text[j] === "'") {
          if (text[j + 1] === "'") {
            value += "'";
            j += 2;
            continue;
          }
          break;
        }
        value += text[j++];
      }
      tokens.push({ t: 'literal', value: { type: 'string', value }, at: i });
      i = j + 1;
      continue;
    }
    if (c === '"') {
      let j = i + 1;
      while (j < text.length && text[j] !== '"') j += text[j] === '\\' ? 2 : 1;
      if (j >= text.length) throw new ODataQueryError(`There is an unterminated string at position ${i}.`);
      tokens.push({ t: 'json', value: JSON.parse(text.slice(i, j + 1)) as string, at: i });
      i = j + 1;
      continue;
    }
    const guid = sticky(GUID_RE, text, i);
    if (guid) {
      tokens.push({ t: 'literal', value: { type: 'guid', value: guid.toLowerCase() }, at: i });
      i += guid.length;
      continue;
    }
    const datetime = sticky(DATETIME_RE, text, i);
    if (datetime && datetime.includes('T')) {
      tokens.push({ t: 'literal', value: { type: 'datetime', value: datetime }, at: i });
      i += datetime.length;
      continue;
    }
    const number = sticky(NUMBER_RE, text, i);
    if (number) {
      tokens.push({ t: 'literal', value: { type: 'number', value: Number(number) }, at: i });
      i += number.length;
      continue;
    }
    const name = sticky(NAME_RE, text, i);
    if (name) {
      if (name === 'null') tokens.push({ t: 'literal', value: { type: 'null' }, at: i });
      else if (name === 'true' || name === 'false') tokens.push({ t: 'literal', value: { type: 'boolean', value: name === 'true' }, at: i });
      else tokens.push({ t: 'name', value: name, at: i });
      i += name.length;
      continue;
    }
    throw new ODataQueryError(`Syntax error at position ${i} in '${text}'.`);
  }
  return tokens;
}

/** Parses a $filter; `aliases` are the request's @name parameters (raw text). */
export function parseFilter(text: string, aliases: ReadonlyMap<string, string> = new Map()): FilterNode {
  const tokens = tokenize(text);
  let pos = 0;
  const peek = (): Token | undefined => tokens[pos];
  const fail = (what: string): never => {
    const token = peek();
    throw new ODataQueryError(`Syntax error: ${what} at position ${token ? token.at : text.length} in '${text}'.`);
  };
  const expect = (t: Token['t']): Token => {
    const token = peek();
    if (!token || token.t !== t) return fail(`'${t}' expected`);
    pos++;
    return token;
  };
  const isName = (value: string): boolean => {
    const token = peek();
    return token !== undefined && token.t === 'name' && token.value === value;
  };
  const property = (): string => {
    const token = peek();
    if (!token || token.t !== 'name' || token.value.startsWith('@')) return fail('property name expected');
    pos++;
    return token.value;
  };
  const aliasText = (name: string): string => {
    const raw = aliases.get(name);
    if (raw === undefined) throw new ODataQueryError(`The parameter alias '${name}' is not defined in the request.`);
    return raw;
  };
  const literal = (): Literal => {
    const token = peek();
    if (token?.t === 'name' && token.value.startsWith('@')) {
      pos++;
      const inner = tokenize(aliasText(token.value));
      if (inner.length !== 1 || inner[0].t !== 'literal') throw new ODataQueryError(`The parameter alias '${token.value}' is not a literal.`);
      return inner[0].value;
    }
    if (!token || token.t !== 'literal') return fail('literal expected');
    pos++;
    return token.value;
  };
  const stringLiteral = (): string => {
    const value = literal();
    if (value.type !== 'string') throw new ODataQueryError('A string literal was expected.');
    return value.value;
  };
  const stringArray = (): string[] => {
    const token = peek();
    if (token?.t === 'name' && token.value.startsWith('@')) {
      pos++;
      let parsed: unknown;
      try {
        parsed = JSON.parse(aliasText(token.value));
      } catch {
        throw new ODataQueryError(`Invalid JSON. The parameter alias '${token.value}' is not a JSON array.`);
      }
      if (!Array.isArray(parsed) || !parsed.every((v) => typeof v === 'string')) throw new ODataQueryError('PropertyValues must be an array of strings.');
      return parsed;
    }
    expect('[');
    const values: string[] = [];
    while (peek()?.t !== ']') {
      const item = peek();
      if (item?.t === 'json') {
        values.push(item.value);
        pos++;
      }
      // Inline single-quoted members are what Dataverse rejects when a value holds a quote; plain ones pass.
      else if (item?.t === 'literal' && item.value.type === 'string') {
        values.push(item.value.value);
        pos++;
      } else fail('string expected in array');
      if (peek()?.t === ',') pos++;
      else break;
    }
    expect(']');
    return values;
  };

  const primary = (): FilterNode => {
    const token = peek();
    if (!token) return fail('expression expected');
    if (token.t === '(') {
      pos++;
      const inner = or();
      expect(')');
      return inner;
    }
    if (token.t === 'name' && (token.value === 'contains' || token.value === 'startswith' || token.value === 'endswith')) {
      pos++;
      expect('(');
      const prop = property();
      expect(',');
      const pattern = stringLiteral();
      expect(')');
      return { kind: 'text', fn: token.value, property: prop, pattern };
    }
    if (token.t === 'name' && (token.value === 'Microsoft.Dynamics.CRM.In' || token.value === 'Microsoft.Dynamics.CRM.NotIn')) {
      pos++;
      expect('(');
      let prop: string | null = null;
      let values: string[] | null = null;
      for (;;) {
        const argName = property();
        expect('=');
        if (argName === 'PropertyName') prop = stringLiteral();
        else if (argName === 'PropertyValues') values = stringArray();
        else throw new ODataQueryError(`Unknown parameter '${argName}' of ${token.value}.`);
        if (peek()?.t === ',') {
          pos++;
          continue;
        }
        break;
      }
      expect(')');
      if (prop === null || values === null) throw new ODataQueryError(`${token.value} needs PropertyName and PropertyValues.`);
      return { kind: 'in', negate: token.value.endsWith('NotIn'), property: prop, values };
    }
    if (token.t === 'name' && token.value.includes('.')) throw new ODataQueryError(`The function '${token.value}' is not supported by the emulator.`);
    const prop = property();
    const opToken = peek();
    if (!opToken || opToken.t !== 'name' || !isComparisonOp(opToken.value)) return fail('comparison operator expected');
    pos++;
    return { kind: 'compare', op: opToken.value, property: prop, value: literal() };
  };
  const unary = (): FilterNode => {
    if (isName('not')) {
      pos++;
      return { kind: 'not', operand: unary() };
    }
    return primary();
  };
  const and = (): FilterNode => {
    let left = unary();
    while (isName('and')) {
      pos++;
      left = { kind: 'and', left, right: unary() };
    }
    return left;
  };
  const or = (): FilterNode => {
    let left = and();
    while (isName('or')) {
      pos++;
      left = { kind: 'or', left, right: and() };
    }
    return left;
  };
  const tree = or();
  if (pos < tokens.length) fail('end of expression expected');
  return tree;
}

/** The 16 bytes of a GUID as .NET stores them (first three groups little-endian). */
function guidBytes(guid: string): number[] {
  const hex = guid.replace(/-/g, '');
  const bytes = Array.from({ length: 16 }, (_, i) => parseInt(hex.slice(i * 2, i * 2 + 2), 16));
  return [bytes[3], bytes[2], bytes[1], bytes[0], bytes[5], bytes[4], bytes[7], bytes[6], ...bytes.slice(8)];
}

/** SQL Server's uniqueidentifier order: the last six bytes weigh most, the first four least. */
const SQL_GUID_ORDER = [10, 11, 12, 13, 14, 15, 8, 9, 6, 7, 4, 5, 0, 1, 2, 3];

/** A string whose plain order is SQL Server's order of the GUID. */
function sqlGuidKey(guid: string): string {
  const bytes = guidBytes(guid.toLowerCase());
  return SQL_GUID_ORDER.map((i) => bytes[i].toString(16).padStart(2, '0')).join('');
}

export function compareGuids(a: string, b: string): number {
  const x = sqlGuidKey(a);
  const y = sqlGuidKey(b);
  return x < y ? -1 : x > y ? 1 : 0;
}

/** Case- and accent-insensitive, trailing spaces ignored: SQL Server's default Dataverse collation. */
function fold(text: string): string {
  return text.replace(/ +$/, '').normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
}

/** A T-SQL LIKE pattern (%, _, [set], [^set]) as a regular expression source. */
function likeSource(pattern: string): string {
  let out = '';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i];
    if (c === '%') out += '[\\s\\S]*';
    else if (c === '_') out += '[\\s\\S]';
    else if (c === '[') {
      const end = pattern.indexOf(']', i + 2);
      if (end < 0) {
        out += '\\[';
        continue;
      }
      const body = pattern.slice(i + 1, end);
      const negate = body.startsWith('^') && body.length > 1;
      const set = (negate ? body.slice(1) : body).replace(/[\\\]^]/g, (x) => `\\${x}`);
      out += `[${negate ? '^' : ''}${set}]`;
      i = end;
    } else out += c.replace(/[.*+?^${}()|\\/]/g, (x) => `\\${x}`);
  }
  return out;
}

export function typeFamily(type: AttributeType): 'string' | 'guid' | 'datetime' | 'number' | 'boolean' {
  switch (type) {
    case 'String':
    case 'Memo':
      return 'string';
    case 'Uniqueidentifier':
      return 'guid';
    case 'DateTime':
      return 'datetime';
    case 'Boolean':
      return 'boolean';
    default:
      return 'number';
  }
}

const EDM: Record<ReturnType<typeof typeFamily>, string> = {
  string: 'Edm.String',
  guid: 'Edm.Guid',
  datetime: 'Edm.DateTimeOffset',
  number: 'Edm.Decimal',
  boolean: 'Edm.Boolean',
};
const LITERAL_EDM: Record<Literal['type'], string> = {
  null: 'null',
  string: 'Edm.String',
  guid: 'Edm.Guid',
  datetime: 'Edm.DateTimeOffset',
  number: 'Edm.Decimal',
  boolean: 'Edm.Boolean',
};

type Comparable = string | number;

/** The value in a form whose plain order (and equality) is the service's, for an attribute of this family. */
function comparable(family: ReturnType<typeof typeFamily>, value: unknown): Comparable {
  switch (family) {
    case 'string':
      return fold(String(value));
    case 'guid':
      return sqlGuidKey(String(value));
    case 'datetime':
      return Date.parse(String(value));
    case 'boolean':
      return value === true || value === 'true' ? 1 : 0;
    default:
      return Number(value);
  }
}

function compareComparable(a: Comparable, b: Comparable): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** Rows are replaced, never changed, on write: their comparable values can be kept. */
const rowKeys = new WeakMap<object, Map<string, Comparable>>();

function rowComparable(row: Readonly<Record<string, unknown>>, property: string, family: ReturnType<typeof typeFamily>): Comparable {
  let keys = rowKeys.get(row);
  if (!keys) rowKeys.set(row, (keys = new Map()));
  let key = keys.get(property);
  if (key === undefined) keys.set(property, (key = comparable(family, row[property])));
  return key;
}

/** A PropertyValues member checked against the attribute's family; 400 when it does not fit. */
function checkListValue(family: ReturnType<typeof typeFamily>, value: string): void {
  const ok =
    family === 'string'
      ? true
      : family === 'guid'
        ? GUID_PATTERN.test(value)
        : family === 'datetime'
          ? !Number.isNaN(Date.parse(value))
          : family === 'boolean'
            ? value === 'true' || value === 'false'
            : /^-?\d+(\.\d+)?$/.test(value);
  if (!ok) throw new ODataQueryError(`'${value}' is not a valid value for an attribute of type ${family}.`);
}

/** Per parsed node: its literal, value set or pattern in comparable form, computed once. */
const nodeCache = new WeakMap<FilterNode, Comparable | Set<Comparable> | RegExp>();

function cached<T extends Comparable | Set<Comparable> | RegExp>(node: FilterNode, make: () => T): T {
  let value = nodeCache.get(node);
  if (value === undefined) nodeCache.set(node, (value = make()));
  return value as T;
}

export interface FilterContext {
  entityName: string;
  /** Attribute types by logical name. */
  types: ReadonlyMap<string, AttributeType>;
}

function typeOf(ctx: FilterContext, property: string): AttributeType {
  const type = ctx.types.get(property);
  if (!type) throw new ODataQueryError(`Could not find a property named '${property}' on type 'Microsoft.Dynamics.CRM.${ctx.entityName}'.`);
  return type;
}

/** Checks names and literal types, as the service does before running a query. */
export function checkFilter(node: FilterNode, ctx: FilterContext): void {
  switch (node.kind) {
    case 'and':
    case 'or':
      checkFilter(node.left, ctx);
      checkFilter(node.right, ctx);
      return;
    case 'not':
      checkFilter(node.operand, ctx);
      return;
    case 'text':
      if (typeFamily(typeOf(ctx, node.property)) !== 'string')
        throw new ODataQueryError(`The function '${node.fn}' needs a string property; '${node.property}' is not one.`);
      return;
    case 'in': {
      const family = typeFamily(typeOf(ctx, node.property));
      for (const v of node.values) checkListValue(family, v);
      return;
    }
    case 'compare': {
      const family = typeFamily(typeOf(ctx, node.property));
      if (node.value.type === 'null') return;
      const fits = node.value.type === family || (family === 'number' && node.value.type === 'number');
      if (!fits) {
        throw new ODataQueryError(
          `A binary operator with incompatible types was detected. Found operand types '${EDM[family]}' and '${LITERAL_EDM[node.value.type]}' for operator kind '${node.op}'.`,
        );
      }
      if (family === 'boolean' && node.op !== 'eq' && node.op !== 'ne') throw new ODataQueryError(`Operator '${node.op}' is not defined for Edm.Boolean.`);
    }
  }
}

export function evaluate(node: FilterNode, row: Readonly<Record<string, unknown>>, ctx: FilterContext): boolean {
  switch (node.kind) {
    case 'and':
      return evaluate(node.left, row, ctx) && evaluate(node.right, row, ctx);
    case 'or':
      return evaluate(node.left, row, ctx) || evaluate(node.right, row, ctx);
    case 'not':
      return !evaluate(node.operand, row, ctx);
    case 'text': {
      const stored = row[node.property];
      if (typeof stored !== 'string') return false;
      const pattern = cached(node, () => {
        const body = likeSource(fold(node.pattern));
        return new RegExp(node.fn === 'contains' ? body : node.fn === 'startswith' ? `^${body}` : `${body}$`, 's');
      });
      return pattern.test(rowComparable(row, node.property, 'string') as string);
    }
    case 'in': {
      const stored = row[node.property];
      if (stored === null || stored === undefined) return false;
      const family = typeFamily(typeOf(ctx, node.property));
      const values = cached(node, () => new Set(node.values.map((v) => comparable(family, v))));
      const hit = values.has(rowComparable(row, node.property, family));
      return node.negate ? !hit : hit;
    }
    case 'compare': {
      const stored = row[node.property] ?? null;
      const literal = node.value;
      if (literal.type === 'null') {
        if (node.op === 'eq') return stored === null;
        if (node.op === 'ne') return stored !== null;
        return false;
      }
      if (stored === null) return false;
      const family = typeFamily(typeOf(ctx, node.property));
      return comparisonHolds(
        node.op,
        compareComparable(
          rowComparable(row, node.property, family),
          cached(node, () => comparable(family, literal.value)),
        ),
      );
    }
  }
}

/** Orders two values of one attribute, nulls first as SQL Server sorts them ascending. */
export function compareByAttribute(type: AttributeType, a: unknown, b: unknown): number {
  const x = a ?? null;
  const y = b ?? null;
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  const family = typeFamily(type);
  return compareComparable(comparable(family, x), comparable(family, y));
}

/** Like compareByAttribute, for two rows, reusing the rows' comparable values. */
export function compareRows(type: AttributeType, property: string, a: Readonly<Record<string, unknown>>, b: Readonly<Record<string, unknown>>): number {
  const x = a[property] ?? null;
  const y = b[property] ?? null;
  if (x === null || y === null) return x === y ? 0 : x === null ? -1 : 1;
  const family = typeFamily(type);
  return compareComparable(rowComparable(a, property, family), rowComparable(b, property, family));
}
