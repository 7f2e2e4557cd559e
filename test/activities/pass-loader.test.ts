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
  const error = await loadMapping(deps, definition.name).then(() => null, (e: unknown) => e);
  expect(error).toBeInstanceOf(ApplicationFailure);
  return error as ApplicationFailure;
}

describe('system names are looked up as the worker\'s own systems only', () => {
  test.each(['constructor', '__proto__', 'toString', 'hasOwnProperty'])('a mapping whose local.system is %j fails non-retryable, naming the field', async (system) => {
    const failure = await refusal(testMapping({ local: { system, table: 'customer' } }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.type).toBe('InvalidMapping');
    expect(failure.message).toContain(`local.system "${system}"`);
    expect(failure.message).toContain('its systems are: local, integration');
  });

  test('the same for integration.system', async () => {
    const failure = await refusal(testMapping({ integration: { system: 'valueOf', table: 'account' } }));
    expect(failure.nonRetryable).toBe(true);
    expect(failure.message).toContain('integration.system "valueOf"');
  });
});
