/**
 * The reference model's state and the small rules every part of it shares:
 * values, fields, filters, failures and counting. Written from
 * docs/SEMANTICS.md alone; it imports nothing but ./world, so the engine's own
 * rules can never leak into the oracle they are checked against.
 *
 * `// SPEC:` marks a choice the spec leaves open; the engine must make the same.
 */
import {
  COLUMNS,
  GUARDED,
  POISON,
  type Counters,
  type ErrorKind,
  type FieldSetting,
  type MappingSettings,
  type ObservedError,
  type ObservedJob,
  type Side,
  type SyncDirection,
  type Values,
} from './world';

export interface ModelRecord {
  values: Values;
  /** The step that last wrote it (the seed is step 0). */
  modifiedOn: number;
}

export interface DirectionState {
  result: 'Success' | 'Failure' | null;
  failures: number;
  /** SPEC: two failures are "the same message" when they are of the same ErrorKind (the engine's messages must not vary per attempt). */
  lastError: ErrorKind | null;
  pending: boolean;
}

export interface ModelCoupling {
  localId: string;
  integrationId: string;
  /** Last synced modified-on of the local (L) and integration (I) record; null = never synced. */
  L: number | null;
  I: number | null;
  to: DirectionState;
  from: DirectionState;
  skipped: boolean;
}

export interface UncoupledFailure {
  side: Side;
  id: string;
  failures: number;
  lastError: ErrorKind | null;
  skipped: boolean;
}

export interface ModelState {
  settings: MappingSettings;
  tables: Record<Side, Map<string, ModelRecord>>;
  couplings: ModelCoupling[];
  /** Failed uncoupled records, keyed by `failureKey`. */
  failures: Map<string, UncoupledFailure>;
  watermarks: Record<Side, number | null>;
  /** The current step: the time of every write. */
  now: number;
}

// ---- directions and sides ----

export const PASS_ORDER: readonly SyncDirection[] = ['ToIntegrationTable', 'FromIntegrationTable'];

export function sourceOf(direction: SyncDirection): Side {
  return direction === 'ToIntegrationTable' ? 'local' : 'integration';
}
export function destinationOf(direction: SyncDirection): Side {
  return direction === 'ToIntegrationTable' ? 'integration' : 'local';
}
export function otherDirection(direction: SyncDirection): SyncDirection {
  return direction === 'ToIntegrationTable' ? 'FromIntegrationTable' : 'ToIntegrationTable';
}
export function naturalDirection(side: Side): SyncDirection {
  return side === 'local' ? 'ToIntegrationTable' : 'FromIntegrationTable';
}
export function allows(settings: MappingSettings, direction: SyncDirection): boolean {
  return settings.direction === 'Bidirectional' || settings.direction === direction;
}
/** The directions a run of the mapping goes through, in order. */
export function mappingPasses(settings: MappingSettings): SyncDirection[] {
  return settings.direction === 'Bidirectional' ? [...PASS_ORDER] : [settings.direction];
}
export function conflictWinner(settings: MappingSettings): SyncDirection | null {
  if (settings.updateConflictResolution === 'SendToIntegration') return 'ToIntegrationTable';
  if (settings.updateConflictResolution === 'GetFromIntegration') return 'FromIntegrationTable';
  return null;
}

// ---- couplings ----

export function idOn(c: ModelCoupling, side: Side): string {
  return side === 'local' ? c.localId : c.integrationId;
}
export function storedOn(c: ModelCoupling, side: Side): number | null {
  return side === 'local' ? c.L : c.I;
}
export function setStored(c: ModelCoupling, side: Side, modifiedOn: number): void {
  if (side === 'local') c.L = modifiedOn;
  else c.I = modifiedOn;
}
export function stateOf(c: ModelCoupling, direction: SyncDirection): DirectionState {
  return direction === 'ToIntegrationTable' ? c.to : c.from;
}
export function couplingOf(state: ModelState, side: Side, id: string): ModelCoupling | undefined {
  return state.couplings.find((c) => idOn(c, side) === id);
}
export function removeCoupling(state: ModelState, c: ModelCoupling): void {
  state.couplings = state.couplings.filter((x) => x !== c);
}
/** Needs D: not skipped, and D failed or has something to carry. */
export function needs(c: ModelCoupling, direction: SyncDirection): boolean {
  const d = stateOf(c, direction);
  return !c.skipped && (d.result === 'Failure' || d.pending);
}
export function freshDirection(pending = false): DirectionState {
  return { result: null, failures: 0, lastError: null, pending };
}
export function failureKey(side: Side, id: string): string {
  return `${side}:${id}`;
}

// ---- values, fields and filters ----

/** null equals "" (BC has no null text). */
export function sameValue(a: string | null | undefined, b: string | null | undefined): boolean {
  return (a ?? '') === (b ?? '');
}
export function column(side: Side, index: number): string {
  return COLUMNS[side][index];
}
export function emptyValues(side: Side): Values {
  return Object.fromEntries(COLUMNS[side].map((c) => [c, null]));
}
/** The fields a pass in this direction carries: the field's direction is D or Bidirectional. */
export function fieldsFor(settings: MappingSettings, direction: SyncDirection): FieldSetting[] {
  return settings.fields.filter((f) => f.direction === direction || f.direction === 'Bidirectional');
}
/** Only a bidirectional field of a bidirectional mapping can conflict. */
export function canConflict(settings: MappingSettings, field: FieldSetting): boolean {
  return settings.direction === 'Bidirectional' && field.direction === 'Bidirectional';
}
export function transform(field: FieldSetting, direction: SyncDirection, value: string | null): string | null {
  const applies = field.uppercase === 'Bidirectional' || field.uppercase === direction;
  return applies && value !== null ? value.toUpperCase() : value;
}
/** The destination values the source values map to in this direction. */
export function mapValues(settings: MappingSettings, direction: SyncDirection, source: Values): Values {
  const from = sourceOf(direction);
  const to = destinationOf(direction);
  const out: Values = {};
  for (const f of fieldsFor(settings, direction)) out[column(to, f.column)] = transform(f, direction, source[column(from, f.column)] ?? null);
  return out;
}
/** The mapped values that differ from the destination's. */
export function diff(mapped: Values, destination: Values): Values {
  return Object.fromEntries(Object.entries(mapped).filter(([k, v]) => !sameValue(v, destination[k])));
}
/** A sync writing POISON into a side's guarded column fails (a CHECK constraint). */
export function poisoned(side: Side, writes: Values): boolean {
  return writes[GUARDED[side]]?.includes(POISON) === true;
}
/**
 * Inside a side's table filter: for every condition the column is not equal to
 * the value. SPEC: exact, case-sensitive comparison; null (and "") are not equal
 * to anything, so inside.
 */
export function inFilter(settings: MappingSettings, side: Side, values: Values): boolean {
  const conditions = side === 'local' ? settings.tableFilter : settings.integrationTableFilter;
  return conditions.every((f) => (values[column(side, f.column)] ?? null) !== f.notEqual);
}

// ---- failures ----

/**
 * The failure rule: the same error as last time raises the count, else it
 * starts at 1; a count of 2 marks skipped. Returns whether it is now skipped.
 */
export function countFailure(target: { failures: number; lastError: ErrorKind | null }, kind: ErrorKind): boolean {
  target.failures = (target.lastError === kind ? target.failures : 0) + 1;
  target.lastError = kind;
  return target.failures >= 2;
}

// ---- jobs and counting ----

/*
 * Counting conventions (per job), from SEMANTICS.md "Counting". Every counter a
 * job reports is raised in exactly one place of the model, named on the right.
 *
 * | counter   | raised for                                                      | where                     |
 * |-----------|-----------------------------------------------------------------|---------------------------|
 * | inserted  | a destination record created: new, restored (RestoreRecords),   | model-pass create()       |
 * |           | or created by match-based coupling's create-new                 |                           |
 * | coupled   | a coupling created: by a create (not by a restore, which        | create(), match, set up   |
 * |           | replaces one), a match, Set Up Coupling                         |                           |
 * | modified  | a destination record updated (only the values that differ)      | model-pass write()        |
 * | deleted   | a destination record deleted (sourceDeletion DeleteCounterpart) | sourceDeleted()           |
 * | uncoupled | a coupling removed: RemoveCoupling (either rule),               | model-pass, uncouple ops  |
 * |           | DeleteCounterpart, uncouple / uncoupleAll                       |                           |
 * | unchanged | a record visited that needed no write, deferred ones included   | decide()                  |
 * | skipped   | a record visited whose coupling or failed-uncoupled entry is    | visitCoupling(),          |
 * |           | skipped (and not being retried)                                 | visitUncoupled()          |
 * | failed    | a record that got an error row in this job (also given ids      | Step.error()              |
 * |           | refused: missing, outside the filter)                           |                           |
 * | unmatched | match-based coupling: a record in scope that no candidate       | match                     |
 * |           | coupled (created or failed); not the given ids refused up front |                           |
 *
 * Not counted: uncoupled records ignored (sync only coupled records); records
 * the retry phase leaves because they are outside the filter; failed uncoupled
 * records forgotten because their source is gone; ids given to a sync on the
 * non-source side that are not coupled; ids given to matching that are
 * already coupled.
 */
export function emptyCounters(): Counters {
  return { inserted: 0, modified: 0, deleted: 0, unchanged: 0, skipped: 0, failed: 0, coupled: 0, uncoupled: 0, unmatched: 0 };
}

/** The jobs and error rows one step writes. */
export class Step {
  readonly jobs: ObservedJob[] = [];
  readonly errors: ObservedError[] = [];

  open(type: ObservedJob['type'], direction: SyncDirection | null): number {
    this.jobs.push({ type, direction, counters: emptyCounters() });
    return this.jobs.length - 1;
  }
  count(job: number, counter: keyof Counters, by = 1): void {
    this.jobs[job].counters[counter] += by;
  }
  /** An error row, which also counts the record failed. */
  error(job: number, sourceId: string, kind: ErrorKind): void {
    this.errors.push({ job, sourceId, kind });
    this.count(job, 'failed');
  }
}
