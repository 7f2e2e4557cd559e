/**
 * The order mappings are synchronized in by a full synchronization: a mapping
 * after every mapping it depends on (`dependsOn`), as BC's Full Synch. Review
 * runs currencies before customers and customers before contacts. Pure: the
 * store uses it to refuse a cycle when a mapping is saved, and the
 * full-synchronization plan to order what it runs.
 */

/** A mapping's name and the mappings it depends on: all an order needs. */
export interface DependencyNode {
  name: string;
  dependsOn: readonly string[];
}

export type DependencyProblem = 'unknownMapping' | 'unknownDependency' | 'cycle';

/** A set of mappings that cannot be put in dependency order; the message names the mappings at fault. */
export class DependencyOrderError extends Error {
  override readonly name = 'DependencyOrderError';
  constructor(
    message: string,
    readonly problem: DependencyProblem,
    /** The mappings at fault: the unknown names, or the cycle from its first mapping back to it. */
    readonly mappings: readonly string[],
  ) {
    super(message);
  }
}

/** "CONTACT -> CUSTOMER -> CONTACT": CONTACT depends on CUSTOMER, which depends on CONTACT. */
export function describeCycle(cycle: readonly string[]): string {
  return cycle.join(' -> ');
}

const byName = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/**
 * A cycle among the nodes, as a path that starts and ends with the same name,
 * or null. Dependencies on names that are not among the nodes are not
 * followed. Deterministic: the search starts at `from` when given (a cycle
 * through it is reported from it), then at the other names in code-point order.
 */
export function findCycle(nodes: readonly DependencyNode[], from?: string): string[] | null {
  const edges = new Map(nodes.map((n) => [n.name, [...new Set(n.dependsOn)].sort(byName)]));
  const done = new Set<string>();
  const onPath = new Map<string, number>();
  const path: string[] = [];

  // Depth-first: a dependency met again while still on the path closes a cycle. Depth is at most the
  // number of mappings (a few hundred), so recursion is safe.
  const visit = (name: string): string[] | null => {
    if (done.has(name)) return null;
    const at = onPath.get(name);
    if (at !== undefined) return [...path.slice(at), name];
    onPath.set(name, path.length);
    path.push(name);
    for (const next of edges.get(name) ?? []) {
      if (!edges.has(next)) continue;
      const cycle = visit(next);
      if (cycle) return cycle;
    }
    path.pop();
    onPath.delete(name);
    done.add(name);
    return null;
  };

  const starts = [...edges.keys()].sort(byName);
  if (from !== undefined && edges.has(from)) starts.unshift(from);
  for (const start of starts) {
    const cycle = visit(start);
    if (!cycle) continue;
    const through = from === undefined ? -1 : cycle.indexOf(from);
    // Reported from the mapping being saved, when the cycle passes through it: that is the one to change.
    return through > 0 ? [...cycle.slice(through, -1), ...cycle.slice(0, through), from as string] : cycle;
  }
  return null;
}

/**
 * The requested mappings (every node when `requested` is absent) and all they
 * depend on, directly or not, each after everything it depends on; mappings
 * that do not depend on each other keep code-point order of their names.
 * Refused, naming them, when a requested mapping or a dependency is not among
 * the nodes, or when the dependencies make a cycle.
 */
export function dependencyOrder(nodes: readonly DependencyNode[], requested?: readonly string[]): DependencyNode[] {
  const nodeOf = new Map(nodes.map((n) => [n.name, n]));
  const wanted = requested ? [...new Set(requested)] : [...nodeOf.keys()];
  const unknown = wanted.filter((name) => !nodeOf.has(name));
  if (unknown.length > 0) {
    throw new DependencyOrderError(
      `No mapping named ${unknown.map((n) => `"${n}"`).join(', ')}; known mappings: ${[...nodeOf.keys()].sort(byName).slice(0, 20).join(', ') || '(none yet)'}.`,
      'unknownMapping',
      unknown,
    );
  }

  // The closure: what was asked and, transitively, what it depends on.
  const included = new Set<string>();
  const missing: { mapping: string; dependency: string }[] = [];
  const stack = [...wanted];
  while (stack.length > 0) {
    const name = stack.pop() as string;
    if (included.has(name)) continue;
    included.add(name);
    for (const dependency of nodeOf.get(name)?.dependsOn ?? []) {
      if (nodeOf.has(dependency)) stack.push(dependency);
      else missing.push({ mapping: name, dependency });
    }
  }
  if (missing.length > 0) {
    missing.sort((a, b) => byName(a.mapping, b.mapping) || byName(a.dependency, b.dependency));
    const lines = missing.slice(0, 5).map((m) => `${m.mapping} depends on ${m.dependency}, which is not a saved mapping`);
    const more = missing.length > 5 ? ` (and ${missing.length - 5} more)` : '';
    throw new DependencyOrderError(`Mapping ${lines.join('; mapping ')}${more}.`, 'unknownDependency', [...new Set(missing.map((m) => m.dependency))]);
  }

  const closure = [...included].sort(byName).map((name) => nodeOf.get(name) as DependencyNode);
  const cycle = findCycle(closure);
  if (cycle) throw new DependencyOrderError(`The mappings depend on each other in a cycle: ${describeCycle(cycle)}.`, 'cycle', cycle);

  // Kahn's algorithm, always taking the first ready name in code-point order, so the order is the data's alone.
  const waitingOn = new Map(closure.map((n) => [n.name, new Set(n.dependsOn)]));
  const order: DependencyNode[] = [];
  while (waitingOn.size > 0) {
    const ready = [...waitingOn.entries()].filter(([, deps]) => deps.size === 0).map(([name]) => name);
    const next = ready.sort(byName)[0];
    waitingOn.delete(next);
    for (const deps of waitingOn.values()) deps.delete(next);
    const node = nodeOf.get(next) as DependencyNode;
    order.push({ name: node.name, dependsOn: [...new Set(node.dependsOn)] });
  }
  return order;
}
