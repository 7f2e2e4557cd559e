/**
 * The model-based test through the real workflows on the dev server: fewer
 * sequences than through the activities (each step is a workflow run), but the
 * same reference model and the same regressions. MODEL_WORKFLOW_RUNS=N runs more.
 */
import { connectTestTemporal, type TestTemporal } from '../helpers/temporal';
import { checkModel, runScenario } from './run-model';
import { WorkflowEngine } from './engine-workflows';
import { REGRESSIONS } from './regressions';

let temporal: TestTemporal;
beforeAll(async () => {
  temporal = await connectTestTemporal();
});
afterAll(async () => {
  await temporal?.close();
});

describe('the engine through its workflows agrees with the reference model', () => {
  test.each(REGRESSIONS.map((r) => [r.name, r] as const))('regression: %s', async (_name, regression) => {
    await runScenario(() => new WorkflowEngine(temporal), regression.scenario);
  });

  test('random sequences', async () => {
    const runs = Number(process.env.MODEL_WORKFLOW_RUNS ?? 20);
    const result = await checkModel({
      name: 'workflows',
      engine: () => new WorkflowEngine(temporal),
      runs,
      timeoutMs: 180_000,
      environment: false,
      minimizeBudget: 40,
    });
    expect(result.runs).toBe(runs);
  }, 3_600_000);
});
