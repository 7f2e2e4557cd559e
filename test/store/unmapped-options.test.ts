/**
 * The store on every dialect: option mappings and templates survive a save,
 * and the list of unmapped option values keeps one row per (mapping, side,
 * field, value), counting what each batch saw.
 */
import { availableDialects, onEachDialect, type Dialect } from '../helpers/stores';
import type { Store } from '../../store/store';
import { testMapping } from '../helpers/systems';

describe('option mappings, templates and unmapped values in the store', () => {
  let dialects: Dialect[] = [];
  beforeAll(async () => {
    dialects = await availableDialects();
  });

  const each = (fn: (store: Store) => Promise<void>): Promise<void> => onEachDialect(dialects, fn);

  test('a mapping with an option mapping and templates reads back as saved, with defaults', async () => {
    await each(async (store) => {
      const saved = await store.saveMapping(
        testMapping({
          direction: 'Bidirectional',
          fields: [
            { localField: 'name', integrationField: 'name' },
            { localField: 'payment_terms_code', integrationField: 'paymenttermscode', optionMapping: { pairs: [{ local: 'NET30', integration: 100000001 }] } },
          ],
          templates: [
            { direction: 'ToIntegrationTable', priority: 5, filter: [{ field: 'country', op: 'eq', value: 'gb' }], values: { customertypecode: 'UK' } },
          ],
        }),
      );
      expect(saved.fields[1].optionMapping).toEqual({ pairs: [{ local: 'NET30', integration: 100000001 }], unmapped: 'fail' });
      expect(saved.fields[0].optionMapping).toBeUndefined();
      expect(saved.templates).toEqual([
        { direction: 'ToIntegrationTable', priority: 5, filter: [{ field: 'country', op: 'eq', value: 'gb' }], values: { customertypecode: 'UK' } },
      ]);
      expect((await store.saveMapping(testMapping())).templates).toEqual([]);
    });
  });

  test('a batch adds each value once with its count; a later batch adds to it and becomes the last seen; 12 and "12" are one value', async () => {
    await each(async (store) => {
      const local = (value: unknown) => ({ sourceSide: 'local' as const, sourceField: 'payment_terms_code', destinationField: 'paymenttermscode', value });
      await store.noteUnmappedOptions('CUSTOMER', 'job-1', [local('NET45'), local('NET45'), local(12)]);
      await store.noteUnmappedOptions('CUSTOMER', 'job-2', [local('NET45'), local('12')]);
      await store.noteUnmappedOptions('OTHER', 'job-3', [local('NET45')]);
      const rows = await store.listUnmappedOptions('CUSTOMER');
      expect(rows.map(({ firstSeenAt: _f, lastSeenAt: _l, ...r }) => r).sort((a, b) => a.valueKey.localeCompare(b.valueKey))).toEqual([
        {
          mappingName: 'CUSTOMER',
          side: 'local',
          field: 'payment_terms_code',
          valueKey: '12',
          value: '12',
          destinationField: 'paymenttermscode',
          occurrences: 2,
          firstJobId: 'job-1',
          lastJobId: 'job-2',
        },
        {
          mappingName: 'CUSTOMER',
          side: 'local',
          field: 'payment_terms_code',
          valueKey: 'NET45',
          value: '"NET45"',
          destinationField: 'paymenttermscode',
          occurrences: 3,
          firstJobId: 'job-1',
          lastJobId: 'job-2',
        },
      ]);
      expect((await store.listUnmappedOptions()).map((r) => r.mappingName)).toEqual(['CUSTOMER', 'CUSTOMER', 'OTHER']);
    });
  });

  test('a value no column could hold as a key (long, or with a NUL) is kept, keyed by its hash', async () => {
    await each(async (store) => {
      const long = 'x'.repeat(5000);
      const entry = (value: string) => ({ sourceSide: 'integration' as const, sourceField: 'code', destinationField: 'code', value });
      await store.noteUnmappedOptions('CUSTOMER', 'job-1', [entry(long), entry(`${long}y`), entry('a\u0000b')]);
      const rows = await store.listUnmappedOptions('CUSTOMER');
      expect(rows).toHaveLength(3);
      for (const row of rows) expect(row.valueKey).toMatch(/#sha256:[0-9a-f]{64}$/);
    });
  });
});
