/**
 * The model-based test through the activities on real SQLite (no Temporal):
 * random sequences of edits, deletes, creates, runs of every kind and
 * uncoupling, with random mapping settings and batch sizes, compared with the
 * reference model after every step. MODEL_RUNS=N runs more.
 */
import { checkModel, runScenario } from './run-model';
import { ActivityEngine } from './engine-activities';
import { REGRESSIONS } from './regressions';
import { engineId, MAPPING_NAME } from './world';
import { creationKey } from '../../domain/record-key';

describe('the engine through its activities agrees with the reference model', () => {
  test("the model's ids of created records are the engine's creation keys", () => {
    expect(engineId('integration', 'I(C1)')).toBe(creationKey(MAPPING_NAME, 'local', 'C1'));
    expect(engineId('local', 'L(I(C1))')).toBe(creationKey(MAPPING_NAME, 'integration', creationKey(MAPPING_NAME, 'local', 'C1')));
    expect(engineId('local', 'C1')).toBe('C1');
  });

  test.each(REGRESSIONS.map((r) => [r.name, r] as const))('regression: %s', async (_name, regression) => {
    await runScenario(() => new ActivityEngine(), regression.scenario);
  });

  test('random sequences', async () => {
    const { runs } = await checkModel({ name: 'activities', engine: () => new ActivityEngine(), runs: 300, timeoutMs: 60_000 });
    // A replay (MODEL_PATH) runs the one sequence it names.
    expect(runs).toBeGreaterThanOrEqual(process.env.MODEL_PATH ? 1 : Math.min(300, Number(process.env.MODEL_RUNS ?? 300)));
  }, 1_200_000);
});
