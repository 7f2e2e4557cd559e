/** The order of a full synchronization and the cycle check of a save: pure, no store, no Temporal. */
import { DependencyOrderError, dependencyOrder, describeCycle, findCycle, type DependencyNode } from '../../domain/dependency-order';

const node = (name: string, ...dependsOn: string[]): DependencyNode => ({ name, dependsOn });

function refusal(nodes: DependencyNode[], requested?: string[]): DependencyOrderError {
  try {
    dependencyOrder(nodes, requested);
  } catch (error) {
    expect(error).toBeInstanceOf(DependencyOrderError);
    return error as DependencyOrderError;
  }
  throw new Error('the order was accepted');
}

describe('dependencyOrder', () => {
  const chain = [node('CONTACT', 'CUSTOMER'), node('CUSTOMER', 'CURRENCY', 'SALESPERSON'), node('CURRENCY'), node('SALESPERSON'), node('ITEM')];

  test('every mapping after all it depends on; independent ones in name order', () => {
    expect(dependencyOrder(chain).map((n) => n.name)).toEqual(['CURRENCY', 'ITEM', 'SALESPERSON', 'CUSTOMER', 'CONTACT']);
  });

  test('the requested mappings bring what they depend on, transitively, and nothing else', () => {
    const order = dependencyOrder(chain, ['CONTACT']);
    expect(order.map((n) => n.name)).toEqual(['CURRENCY', 'SALESPERSON', 'CUSTOMER', 'CONTACT']);
    expect(order.find((n) => n.name === 'CUSTOMER')?.dependsOn).toEqual(['CURRENCY', 'SALESPERSON']);
    expect(dependencyOrder(chain, ['ITEM', 'ITEM']).map((n) => n.name)).toEqual(['ITEM']);
  });

  test('the same nodes in another order give the same order', () => {
    expect(dependencyOrder([...chain].reverse()).map((n) => n.name)).toEqual(dependencyOrder(chain).map((n) => n.name));
  });

  test('a dependency named twice is one dependency', () => {
    expect(dependencyOrder([node('B', 'A', 'A'), node('A')])).toEqual([node('A'), node('B', 'A')]);
  });

  test('an unknown requested mapping is refused, naming it', () => {
    const error = refusal(chain, ['CONTACT', 'VENDOR']);
    expect(error.problem).toBe('unknownMapping');
    expect(error.mappings).toEqual(['VENDOR']);
    expect(error.message).toMatch(/^No mapping named "VENDOR"; known mappings: CONTACT, CURRENCY, /);
  });

  test('a dependency that is not saved is refused, naming the mapping and the dependency', () => {
    const error = refusal([node('CONTACT', 'CUSTOMER'), node('CUSTOMER', 'CURRENCY')], ['CONTACT']);
    expect(error.problem).toBe('unknownDependency');
    expect(error.mappings).toEqual(['CURRENCY']);
    expect(error.message).toBe('Mapping CUSTOMER depends on CURRENCY, which is not a saved mapping.');
  });

  test('an unsaved dependency of a mapping not asked for is no problem', () => {
    expect(dependencyOrder([node('ITEM'), node('CUSTOMER', 'CURRENCY')], ['ITEM']).map((n) => n.name)).toEqual(['ITEM']);
  });

  test('a cycle is refused, naming it', () => {
    const error = refusal([node('CONTACT', 'CUSTOMER'), node('CUSTOMER', 'CONTACT'), node('ITEM')]);
    expect(error.problem).toBe('cycle');
    expect(error.mappings).toEqual(['CONTACT', 'CUSTOMER', 'CONTACT']);
    expect(error.message).toBe('The mappings depend on each other in a cycle: CONTACT -> CUSTOMER -> CONTACT.');
  });

  test('no mappings, no order', () => {
    expect(dependencyOrder([])).toEqual([]);
  });
});

describe('findCycle', () => {
  test('none in a tree or a diamond', () => {
    expect(findCycle([node('D', 'B', 'C'), node('B', 'A'), node('C', 'A'), node('A')])).toBeNull();
  });

  test('a longer cycle, from where it is first met in name order', () => {
    expect(findCycle([node('A', 'B'), node('B', 'C'), node('C', 'A')])).toEqual(['A', 'B', 'C', 'A']);
  });

  test('reported from the mapping given, when the cycle passes through it', () => {
    const nodes = [node('A', 'B'), node('B', 'C'), node('C', 'A')];
    expect(describeCycle(findCycle(nodes, 'C') as string[])).toBe('C -> A -> B -> C');
    expect(describeCycle(findCycle(nodes, 'B') as string[])).toBe('B -> C -> A -> B');
  });

  test('a cycle reachable from the given mapping but not through it is reported as it is', () => {
    expect(findCycle([node('X', 'A'), node('A', 'B'), node('B', 'A')], 'X')).toEqual(['A', 'B', 'A']);
  });

  test('dependencies on names that are not nodes are not followed', () => {
    expect(findCycle([node('A', 'MISSING'), node('B', 'A')])).toBeNull();
  });

  test('a deep chain of 500 mappings is no problem, and closing it is found', () => {
    const nodes = Array.from({ length: 500 }, (_, i) => node(`M${String(i).padStart(3, '0')}`, ...(i > 0 ? [`M${String(i - 1).padStart(3, '0')}`] : [])));
    expect(findCycle(nodes)).toBeNull();
    expect(dependencyOrder(nodes)[499].name).toBe('M499');
    nodes[0] = node('M000', 'M499');
    expect(findCycle(nodes, 'M000')).toHaveLength(501);
  });
});
