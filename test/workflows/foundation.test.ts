/** The whole path on the real dev server: client -> workflow -> activity -> Knex store. */
import { WorkflowFailedError } from '@temporalio/client';
import { connectTestTemporal, withWorker, type TestTemporal } from '../helpers/temporal';
import { sqliteDialect } from '../helpers/stores';
import { openTestSystems, testMapping, type TestSystems } from '../helpers/systems';
import type { Store } from '../../store/store';

describe('foundation', () => {
  let temporal: TestTemporal;
  let store: Store;
  let cleanup: () => Promise<void>;
  let systems: TestSystems;

  beforeAll(async () => {
    temporal = await connectTestTemporal();
    ({ store, cleanup } = await sqliteDialect.open());
    systems = await openTestSystems();
    await store.saveMapping(testMapping());
  });
  afterAll(async () => {
    await systems?.close();
    await cleanup?.();
    await temporal?.close();
  });

  test('a workflow started through the client reads the store through an activity', async () => {
    const overview = await withWorker(temporal, { store, systems: systems.systems }, (h) => h.sync.describeMapping('CUSTOMER'));
    expect(overview).toEqual({
      name: 'CUSTOMER',
      direction: 'ToIntegrationTable',
      localTable: 'local.customer',
      integrationTable: 'integration.account',
      couplings: 0,
      lastJob: null,
    });
    const server = await temporal.client.workflowService.getSystemInfo({});
    expect(server.serverVersion).toMatch(/^\d+\.\d+/);
  });

  test('an unknown mapping fails at once, non-retryable, naming the field', async () => {
    await withWorker(temporal, { store, systems: systems.systems }, async (h) => {
      const handle = await temporal.client.workflow.start('describeMappingWorkflow', {
        taskQueue: h.taskQueue,
        workflowId: `describe-unknown-${Date.now()}`,
        args: [{ mapping: 'NOPE' }],
      });
      const error = await handle.result().catch((e: unknown) => e);
      expect(error).toBeInstanceOf(WorkflowFailedError);
      expect((error as WorkflowFailedError).cause?.message).toMatch(/Field "mapping": no integration table mapping named "NOPE"/);
      const description = await handle.describe();
      expect(description.status.name).toBe('FAILED');
    });
  });
});
