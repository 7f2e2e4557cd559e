/**
 * What a run start refuses before any batch: a mapping whose systems, columns,
 * transformations or filters cannot work, each non-retryable and naming the field.
 */
import { ApplicationFailure } from '@temporalio/common';
import { loadMapping } from '../../activities/pass-loader';
import type { ActivityDeps } from '../../activities';
import type { MappingDefinition } from '../../domain/mapping';
import { sqliteDialect } from '../helpers/stores';
import { openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import type { Store } from '../../store/store';

let store: Store;
let cleanup: () => Promise<void>;
let sys: TestSystems;
beforeEach(async () => {
  ({ store, cleanup } = await sqliteDialect.open());
  sys = await openTestSystems();
});
afterEach(async () => {
  await sys.close();
  await cleanup();
});

/** The failure loadMapping ends with (fresh deps each time, so nothing is cached). */
async function refusal(definition: MappingDefinition): Promise<ApplicationFailure> {
  await store.saveMapping(definition);
  const deps: ActivityDeps = { store, systems: sys.systems };
  const error = await loadMapping(deps, definition.name).then(
    () => null,
    (e: unknown) => e,
  );
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe("system names are looked up as the worker's own systems only", () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])(
    'a mapping whose local.system is %j fails non-retryable, naming the field',
    async (system) => {
      const failure = await refusal(testMapping({ local: { system, table: 'customer' } }));
      expect(failure.nonRetryable).toBe(true);
      expect(failure.type).toBe('InvalidMapping');
      expect(failure.message).toContain(`local.system "${system}"`);
      expect(failure.message).toContain('its systems are: local, integration');
    },
  );

  test('the same for integration.system', async () => {
    const failure = await refusal(testMapping({ integration: { system: 'valueOf', table: 'account' } }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('integration.system "valueOf"');
  });
});

describe("a field mapped onto the destination's id or modified-on column is refused when a run starts", () => {
  test.each([
    ['the integration id', { localField: 'email', integrationField: 'id' }, 'fields[1].integrationField "id" is the id column of account'],
    [
      'the integration modified-on',
      { localField: 'email', integrationField: 'modified_on' },
      'fields[1].integrationField "modified_on" is the modified-on column of account',
    ],
    [
      'a constant onto the integration id',
      { integrationField: 'id', direction: 'ToIntegrationTable', constantValue: 'X' },
      'fields[1].integrationField "id" is the id column of account',
    ],
  ] as const)('%s', async (_what, field, message) => {
    const failure = await refusal(testMapping({ fields: [{ localField: 'name', integrationField: 'name' }, field as never] }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidMapping');
    expect(failure.message).toContain(message);
  });

  test('the local id, when the mapping writes the local side', async () => {
    const failure = await refusal(
      testMapping({
        direction: 'Bidirectional',
        fields: [
          { localField: 'name', integrationField: 'name' },
          { localField: 'id', integrationField: 'emailaddress1' },
        ],
      }),
    );
    expect(failure.message).toContain('fields[1].localField "id" is the id column of customer');
  });

  test('reading an id into another column is fine: the id is the source, not the destination', async () => {
    await store.saveMapping(
      testMapping({
        fields: [
          { localField: 'name', integrationField: 'name' },
          { localField: 'id', integrationField: 'emailaddress1', direction: 'ToIntegrationTable' },
        ],
      }),
    );
    await expect(loadMapping({ store, systems: sys.systems }, 'CUSTOMER')).resolves.toMatchObject({ name: 'CUSTOMER' });
  });
});

describe("what a mapping stored before today's rules holds is checked again when a run starts", () => {
  test('a table filter outside the filter grammar, and a regex the linear-time engine refuses', async () => {
    await store.saveMapping(testMapping());
    // Written the way an older version stored them, past today's save-time checks.
    await store
      .knex('integration_table_mappings')
      .where('name', 'CUSTOMER')
      .update({ table_filter: JSON.stringify([{ field: 'city', op: 'contains' }]) });
    await store
      .knex('integration_field_mappings')
      .where({ mapping_name: 'CUSTOMER', position: 2 })
      .update({ transformation: JSON.stringify([{ type: 'regexReplace', pattern: '^(a+)\\1$', replaceWith: '' }]) });
    const error = await loadMapping({ store, systems: sys.systems }, 'CUSTOMER').then(
      () => null,
      (e: unknown) => e,
    );
    expect(error).toBeInstanceOf(ApplicationFailure);
    expect((error as ApplicationFailure).nonRetryable).toBe(true);
    expect((error as ApplicationFailure).message).toContain('tableFilter[0].value: contains takes a non-empty string, not none');
    expect((error as ApplicationFailure).message).toContain('fields[2].transformation[0].pattern: regexReplace pattern "^(a+)\\\\1$" backreferences');
  });
});
