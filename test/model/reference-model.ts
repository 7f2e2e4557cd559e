/**
 * The reference model: what docs/SEMANTICS.md says the engine does, as a
 * small, pure, synchronous state machine behind the `System` interface of
 * ./world. It imports nothing from the engine (domain/, activities/, store/,
 * connectors/, workflows/): only ./world and its own modules, so a rule that is
 * wrong in the engine cannot be copied into the oracle.
 *
 * Time: step k stamps every write (user edits, sync writes, job starts) with k;
 * the seed is step 0. The counting conventions are in ./model-state.ts (one
 * table); the choices the spec leaves open are marked `// SPEC:` there, in
 * ./model-pass.ts, ./model-match.ts and here.
 */
import {
  COLUMNS,
  type MappingSettings,
  type Observed,
  type Operation,
  type SeedRecord,
  type Side,
  type StepResult,
  type SyncDirection,
  type System,
} from './world';
import {
  allows,
  conflictWinner,
  couplingOf,
  emptyValues,
  fieldsFor,
  idOn,
  inFilter,
  mappingPasses,
  naturalDirection,
  needs,
  removeCoupling,
  sourceOf,
  Step,
  storedOn,
  type ModelState,
} from './model-state';
import { givenIds, Pass, PLAIN, retryPhase, scanSweepAndWatermark, visitCoupling, visitUncoupled } from './model-pass';
import { couple, matchBasedCoupling, matchRefused, neverSynced, syncAfterDirection } from './model-match';

const REFUSED: StepResult = { refused: true };

export class ReferenceModel implements System {
  private state: ModelState | null = null;

  async open(settings: MappingSettings, seed: { local: SeedRecord[]; integration: SeedRecord[] }): Promise<void> {
    const table = (side: Side, records: SeedRecord[]): ModelState['tables'][Side] =>
      new Map(records.map((r) => [r.id, { values: { ...emptyValues(side), ...r.values }, modifiedOn: 0 }]));
    this.state = {
      settings: structuredClone(settings),
      tables: { local: table('local', seed.local), integration: table('integration', seed.integration) },
      couplings: [],
      failures: new Map(),
      watermarks: { local: null, integration: null },
      now: 0,
    };
  }

  async apply(step: number, operation: Operation): Promise<StepResult> {
    return this.applyNow(step, operation);
  }

  /** The same as `apply`, synchronously (the model never waits). */
  applyNow(step: number, operation: Operation): StepResult {
    const m = this.world();
    m.now = step;
    const result = run(m, operation);
    if ('refused' in result) return result;
    return { jobs: result.jobs, errors: result.errors };
  }

  async observe(): Promise<Observed> {
    const m = this.world();
    const rows = (side: Side): Record<string, Record<string, string | null>> =>
      Object.fromEntries([...m.tables[side].entries()].map(([id, r]) => [id, { ...r.values }]));
    return {
      local: rows('local'),
      integration: rows('integration'),
      couplings: m.couplings.map((c) => ({
        localId: c.localId,
        integrationId: c.integrationId,
        skipped: c.skipped,
        toIntegration: { result: c.to.result, pending: c.to.pending },
        fromIntegration: { result: c.from.result, pending: c.from.pending },
      })),
      uncoupledFailures: [...m.failures.values()].map((e) => ({ side: e.side, id: e.id, skipped: e.skipped })),
    };
  }

  async close(): Promise<void> {
    this.state = null;
  }

  private world(): ModelState {
    if (!this.state) throw new Error('ReferenceModel: open() first');
    return this.state;
  }
}

/** One operation; every refusal is decided before anything changes. */
function run(m: ModelState, op: Operation): Step | typeof REFUSED {
  const { settings } = m;
  const step = new Step();
  switch (op.op) {
    case 'edit': {
      // SPEC: user operations on an id in the wrong state (edit or delete a missing record, create an existing id) are refused and change nothing.
      const r = m.tables[op.side].get(op.id);
      if (!r) return REFUSED;
      for (const c of COLUMNS[op.side]) if (c in op.values) r.values[c] = op.values[c];
      r.modifiedOn = m.now;
      return step;
    }
    case 'create':
      if (m.tables[op.side].has(op.id)) return REFUSED;
      m.tables[op.side].set(op.id, { values: { ...emptyValues(op.side), ...pick(op.side, op.values) }, modifiedOn: m.now });
      return step;
    case 'delete':
      // Couplings and failed-uncoupled entries stay: the engine only notices a deletion when a pass meets it.
      if (!m.tables[op.side].delete(op.id)) return REFUSED;
      return step;
    case 'bulkSync': {
      const directions = passesFor(settings, op.direction);
      if (!directions) return REFUSED;
      for (const direction of directions) {
        const p = new Pass(m, step, step.open('Synchronization', direction), { ...PLAIN, direction, forced: op.fullSync === true });
        if (op.recordIds) givenIds(p, op.side ?? 'local', [...op.recordIds]);
        else {
          retryPhase(p);
          scanSweepAndWatermark(p, op.fullSync === true);
        }
      }
      return step;
    }
    case 'retryFailed': {
      const directions = passesFor(settings, op.direction);
      if (!directions) return REFUSED;
      const includeSkipped = op.includeSkipped === true;
      for (const direction of directions) {
        const winner = includeSkipped ? (op.direction ?? null) : null;
        retryPhase(new Pass(m, step, step.open('Synchronization', direction), { ...PLAIN, direction, includeSkipped, winner }));
      }
      return step;
    }
    case 'singleSync':
      return singleSync(m, step, op.recordId, op.side, op.direction);
    case 'matchBasedCoupling':
      if (matchRefused(settings, op)) return REFUSED;
      matchBasedCoupling(m, step, op);
      return step;
    case 'setUpCoupling': {
      const local = m.tables.local.get(op.localId);
      const integration = m.tables.integration.get(op.integrationId);
      if (!local || !integration || !inFilter(settings, 'local', local.values) || !inFilter(settings, 'integration', integration.values)) return REFUSED;
      const byLocal = couplingOf(m, 'local', op.localId);
      // SPEC: a pair already coupled to each other is no refusal: nothing to couple (counted nothing), and syncAfter still syncs it.
      const already = byLocal !== undefined && byLocal.integrationId === op.integrationId;
      if (!already && (byLocal || couplingOf(m, 'integration', op.integrationId))) return REFUSED;
      const direction = syncAfterDirection(settings);
      if (op.syncAfter && fieldsFor(settings, direction).length === 0) return REFUSED;
      const job = step.open('Coupling', null);
      if (!already) {
        couple(m, neverSynced(settings, op.localId, op.integrationId));
        step.count(job, 'coupled');
      }
      // SPEC: "synchronize after" a Set Up Coupling is a single-record sync of the pair: it repairs drift (force).
      if (op.syncAfter) givenIds(new Pass(m, step, step.open('Synchronization', direction), { ...PLAIN, direction, forced: true }), 'local', [op.localId]);
      return step;
    }
    case 'uncouple':
    case 'uncoupleAll': {
      const job = step.open('Uncoupling', null);
      const ids = op.op === 'uncouple' ? new Set(op.recordIds) : null;
      // SPEC: ids that are not coupled are ignored (not counted); uncoupling leaves failed-uncoupled entries alone.
      for (const c of [...m.couplings]) {
        if (ids && !ids.has(idOn(c, op.op === 'uncouple' ? op.side : 'local'))) continue;
        removeCoupling(m, c);
        step.count(job, 'uncoupled');
      }
      return step;
    }
  }
}

function pick(side: Side, values: Record<string, string | null>): Record<string, string | null> {
  return Object.fromEntries(COLUMNS[side].filter((c) => c in values).map((c) => [c, values[c]]));
}

/**
 * The passes of a run: the given direction or the mapping's. SPEC: refused as a
 * whole, before any job, when the given direction is not the mapping's or when
 * any pass has no field for its direction (BC: "no such field -> the run fails").
 */
function passesFor(settings: MappingSettings, direction: SyncDirection | undefined): SyncDirection[] | null {
  if (direction && !allows(settings, direction)) return null;
  const directions = direction ? [direction] : mappingPasses(settings);
  return directions.every((d) => fieldsFor(settings, d).length > 0) ? directions : null;
}

/** "Synchronize Now" for one record (SEMANTICS.md "Single-record sync"). */
function singleSync(m: ModelState, step: Step, recordId: string, side: Side, given: SyncDirection | undefined): Step | typeof REFUSED {
  const { settings } = m;
  const record = m.tables[side].get(recordId);
  // SPEC: the given record itself must exist and be inside its side's filter, whichever way the pass goes.
  if (!record || !inFilter(settings, side, record.values)) return REFUSED;
  if (given && !allows(settings, given)) return REFUSED;
  const c = couplingOf(m, side, recordId);
  const natural = naturalDirection(side);
  let direction: SyncDirection;
  let skipOnConflict = false;
  if (!c) {
    direction = given ?? (settings.direction === 'Bidirectional' ? natural : settings.direction);
    if (direction !== natural || !allows(settings, natural)) return REFUSED;
  } else if (given) direction = given;
  else if (settings.direction !== 'Bidirectional') direction = settings.direction;
  else {
    const changed = (s: Side, d: SyncDirection): boolean => {
      const r = m.tables[s].get(idOn(c, s));
      const stored = storedOn(c, s);
      // SPEC: a record that does not exist has not "changed" when choosing the direction.
      return r !== undefined && (stored === null || r.modifiedOn !== stored || needs(c, d));
    };
    const localChanged = changed('local', 'ToIntegrationTable');
    const integrationChanged = changed('integration', 'FromIntegrationTable');
    if (localChanged && integrationChanged) {
      // SPEC: with no rule the pass goes from the side given, and only a real conflict in it (a bidirectional field differs) fails and skips at once.
      direction = conflictWinner(settings) ?? natural;
      skipOnConflict = conflictWinner(settings) === null;
    } else if (localChanged) direction = 'ToIntegrationTable';
    else if (integrationChanged) direction = 'FromIntegrationTable';
    else direction = natural;
  }
  if (fieldsFor(settings, direction).length === 0) return REFUSED;
  const sourceId = c ? idOn(c, sourceOf(direction)) : recordId;
  const source = m.tables[sourceOf(direction)].get(sourceId);
  if (!source || !inFilter(settings, sourceOf(direction), source.values)) return REFUSED;
  // SPEC: a direction given by the user is a "chosen direction": it clears skipped and wins conflicts; an inferred one does neither.
  const p = new Pass(m, step, step.open('Synchronization', direction), {
    direction,
    forced: true,
    createUncoupled: true,
    includeSkipped: given !== undefined,
    winner: given ?? null,
    skipOnConflict,
  });
  p.claim(sourceId);
  if (c) visitCoupling(p, c, 'leave');
  else visitUncoupled(p, sourceId);
  return step;
}
