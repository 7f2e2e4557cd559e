/** A save refuses a dependsOn that closes a cycle, naming it; a dependency on a mapping not saved yet is allowed. */
import { availableDialects, onEachDialect, type Dialect } from '../helpers/stores';
import type { Store } from '../../store/store';
import { InvalidMappingError } from '../../domain/mapping';
import { testMapping } from '../helpers/systems';

/** Each mapping on a table pair of its own, as mappings of one store are. */
const mapping = (name: string, dependsOn: string[] = []) =>
  testMapping({
    name,
    local: { system: 'local', table: name.toLowerCase() },
    integration: { system: 'integration', table: `crm_${name.toLowerCase()}` },
    dependsOn,
  });

describe('mapping dependencies', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  const each = (fn: (store: Store) => Promise<void>): Promise<void> => onEachDialect(dialects, fn);

  test('a lookup is a dependency: one that closes a cycle is refused at save, and a lookup into its own mapping is not a cycle', async () => {
    await each(async (store) => {
      const withLookup = (name: string, target: string) =>
        testMapping({
          ...mapping(name),
          fields: [
            { localField: 'name', integrationField: 'name' },
            { localField: 'email', integrationField: 'emailaddress1', lookup: { mapping: target } },
          ],
        });
      await store.saveMapping(withLookup('CUSTOMER', 'CUSTOMER'));
      await store.saveMapping(withLookup('CONTACT', 'CUSTOMER'));
      expect((await store.listMappingDependencies()).find((n) => n.name === 'CONTACT')?.dependsOn).toEqual(['CUSTOMER']);
      await expect(store.saveMapping(mapping('CUSTOMER', ['CONTACT']))).rejects.toThrow(/cycle \(CUSTOMER -> CONTACT -> CUSTOMER\)/);
    });
  });

  test('a cycle is refused at save, naming it from the mapping saved; nothing of that save is stored', async () => {
    await each(async (store) => {
      await store.saveMapping(mapping('CURRENCY'));
      await store.saveMapping(mapping('CUSTOMER', ['CURRENCY', 'CONTACT']));
      await store.saveMapping(mapping('CONTACT'));
      const refused = store.saveMapping(mapping('CONTACT', ['CUSTOMER']));
      await expect(refused).rejects.toBeInstanceOf(InvalidMappingError);
      await expect(refused).rejects.toThrow(
        'Mapping CONTACT is invalid: dependsOn: the mappings would depend on each other in a cycle (CONTACT -> CUSTOMER -> CONTACT); remove one of these dependencies.',
      );
      expect((await store.getMapping('CONTACT'))?.dependsOn).toEqual([]);

      // A longer cycle, closed by the mapping saved last.
      await store.saveMapping(mapping('CUSTOMER', ['CURRENCY']));
      await expect(store.saveMapping(mapping('CURRENCY', ['CONTACT']))).resolves.toMatchObject({ dependsOn: ['CONTACT'] });
      await expect(store.saveMapping(mapping('CONTACT', ['CUSTOMER']))).rejects.toThrow('(CONTACT -> CUSTOMER -> CURRENCY -> CONTACT)');
      expect(await store.listMappingDependencies()).toEqual([
        { name: 'CONTACT', dependsOn: [] },
        { name: 'CURRENCY', dependsOn: ['CONTACT'] },
        { name: 'CUSTOMER', dependsOn: ['CURRENCY'] },
      ]);
    });
  });

  test('a dependency on a mapping not saved yet is allowed, and one that no longer closes a cycle is accepted again', async () => {
    await each(async (store) => {
      await expect(store.saveMapping(mapping('CONTACT', ['CUSTOMER']))).resolves.toMatchObject({ dependsOn: ['CUSTOMER'] });
      await expect(store.saveMapping(mapping('CUSTOMER', ['CONTACT']))).rejects.toThrow('(CUSTOMER -> CONTACT -> CUSTOMER)');
      // Dropping the dependency from CONTACT makes room for the other way round.
      await store.saveMapping(mapping('CONTACT'));
      await expect(store.saveMapping(mapping('CUSTOMER', ['CONTACT']))).resolves.toMatchObject({ dependsOn: ['CONTACT'] });
      // Saving a mapping again with the same dependencies is no cycle.
      await expect(store.saveMapping(mapping('CUSTOMER', ['CONTACT']))).resolves.toMatchObject({ name: 'CUSTOMER' });
    });
  });

  test('concurrent saves that would each close one half of a cycle: one lands, the other is refused', async () => {
    await each(async (store) => {
      // Repeated: without the save lock on PostgreSQL both halves land in most rounds (each checks a graph without the other).
      for (let round = 0; round < 5; round++) {
        await store.saveMapping(mapping('A'));
        await store.saveMapping(mapping('B'));
        const outcomes = await Promise.allSettled([store.saveMapping(mapping('A', ['B'])), store.saveMapping(mapping('B', ['A']))]);
        expect(outcomes.map((o) => o.status).sort()).toEqual(['fulfilled', 'rejected']);
        const deps = await store.listMappingDependencies();
        expect(deps.filter((d) => d.dependsOn.length > 0)).toHaveLength(1);
      }
    });
  });
});
