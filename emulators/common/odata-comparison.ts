/**
 * EMULATOR: what both emulated services' $filter share: the literals a
 * comparison takes and what a comparison operator means once two values are
 * ordered. How values order (collation, GUID order, types) stays each
 * service's own.
 */

export type Literal =
  | { type: 'null' }
  | { type: 'string'; value: string }
  | { type: 'number'; value: number }
  | { type: 'boolean'; value: boolean }
  | { type: 'guid'; value: string }
  | { type: 'datetime'; value: string };

const COMPARISON_OPS = ['eq', 'ne', 'gt', 'ge', 'lt', 'le'] as const;

export type ComparisonOp = (typeof COMPARISON_OPS)[number];

export function isComparisonOp(text: string): text is ComparisonOp {
  return (COMPARISON_OPS as readonly string[]).includes(text);
}

/** Whether two values whose order is `order` (negative, zero or positive, as a compare function returns) satisfy `op`. */
export function comparisonHolds(op: ComparisonOp, order: number): boolean {
  switch (op) {
    case 'eq':
      return order === 0;
    case 'ne':
      return order !== 0;
    case 'gt':
      return order > 0;
    case 'ge':
      return order >= 0;
    case 'lt':
      return order < 0;
    case 'le':
      return order <= 0;
  }
}
