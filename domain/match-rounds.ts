/**
 * Which local record couples to which candidate, as pure functions. Match
 * priorities are tried in ascending order for all records at once (one round
 * per priority): a record with exactly one candidate that was uncoupled when
 * the round started claims it; a candidate several records claim goes to the
 * smallest local id (code-point order); the others go on to the next round.
 * So the outcome depends only on the data, never on how records are batched
 * or in which order batches finish. The activities run a round over batches
 * with a claims table; `matchRecords` runs it in memory.
 */
import { buildCandidateIndex, localLevelKey, type MatchLevel, type MatchRecord } from './matching';

/** What happened to one local record in one round. */
export type LevelResult =
  | { priority: number; result: 'noValues' }
  | { priority: number; result: 'noCandidate' }
  | { priority: number; result: 'several'; candidateIds: string[] }
  | { priority: number; result: 'coupled'; candidateIds: string[] }
  /** Exactly one uncoupled candidate: the record claims it (resolved into matched or contested). */
  | { priority: number; result: 'claim'; candidateId: string }
  | { priority: number; result: 'contested'; candidateId: string; winner: string }
  | { priority: number; result: 'matched'; candidateId: string };

export type UnmatchedReason = 'several' | 'contested' | 'candidateCoupled' | 'noCandidate' | 'noValues';

export type MatchOutcome =
  | { localId: string; kind: 'matched'; integrationId: string; priority: number }
  | { localId: string; kind: 'unmatched'; reason: UnmatchedReason; candidateIds: string[]; levels: readonly LevelResult[] };

/** Listed ids per level in a message; more are summarized as a count. */
const MAX_IDS_IN_MESSAGE = 10;

/** Code-point order (what SQLite's BINARY and PostgreSQL's "C" collations give), not UTF-16 code units. */
export function compareCodePoints(a: string, b: string): number {
  const x = [...a];
  const y = [...b];
  for (let i = 0; i < Math.min(x.length, y.length); i++) {
    const d = (x[i].codePointAt(0) as number) - (y[i].codePointAt(0) as number);
    if (d !== 0) return d;
  }
  return x.length - y.length;
}

/**
 * One round for these records: each record's result at this level against the
 * candidates (a superset is fine: only exact normalized matches count) and the
 * candidates unavailable when the round started. A record whose candidate list
 * was cut short (`undecidable`) never claims.
 */
export function levelResults(input: {
  level: MatchLevel;
  locals: readonly MatchRecord[];
  candidates: readonly MatchRecord[];
  unavailable: ReadonlySet<string>;
  undecidable?: ReadonlySet<string>;
}): Map<string, LevelResult> {
  const { level, candidates, unavailable } = input;
  const priority = level.priority;
  const indexes = new Map<string, Map<string, string[]>>();
  const results = new Map<string, LevelResult>();
  for (const record of input.locals) {
    const key = localLevelKey({ level, record });
    if (!key) {
      results.set(record.id, { priority, result: 'noValues' });
      continue;
    }
    const maskId = key.mask.join(',');
    let index = indexes.get(maskId);
    if (!index) indexes.set(maskId, (index = buildCandidateIndex({ level, mask: key.mask, candidates })));
    const ids = index.get(key.key) ?? [];
    const free = ids.filter((id) => !unavailable.has(id));
    if (ids.length === 0) results.set(record.id, { priority, result: 'noCandidate' });
    else if (free.length === 0) results.set(record.id, { priority, result: 'coupled', candidateIds: [...ids] });
    else if (free.length > 1 || input.undecidable?.has(record.id)) results.set(record.id, { priority, result: 'several', candidateIds: free });
    else results.set(record.id, { priority, result: 'claim', candidateId: free[0] });
  }
  return results;
}

/** The winner of each claimed candidate: the smallest local id that claimed it. */
export function claimWinners(results: ReadonlyMap<string, LevelResult>): Map<string, string> {
  const winners = new Map<string, string>();
  for (const [localId, result] of results) {
    if (result.result !== 'claim') continue;
    const current = winners.get(result.candidateId);
    if (current === undefined || compareCodePoints(localId, current) < 0) winners.set(result.candidateId, localId);
  }
  return winners;
}

/** A claim resolved against the round's winners: matched, or contested naming who won. */
export function settleClaim(result: LevelResult, localId: string, winners: ReadonlyMap<string, string>): LevelResult {
  if (result.result !== 'claim') return result;
  const winner = winners.get(result.candidateId);
  if (winner === localId) return { priority: result.priority, result: 'matched', candidateId: result.candidateId };
  return { priority: result.priority, result: 'contested', candidateId: result.candidateId, winner: winner ?? '?' };
}

const REASON_ORDER: readonly UnmatchedReason[] = ['several', 'contested', 'candidateCoupled', 'noCandidate', 'noValues'];

function reasonOf(result: LevelResult): UnmatchedReason | null {
  switch (result.result) {
    case 'several':
      return 'several';
    case 'contested':
      return 'contested';
    case 'coupled':
      return 'candidateCoupled';
    case 'noCandidate':
      return 'noCandidate';
    case 'noValues':
      return 'noValues';
    default:
      return null;
  }
}

/** The outcome of a record from its trail of rounds. The reason is the most telling round's: ambiguity first. */
export function outcomeOf(localId: string, trail: readonly LevelResult[]): MatchOutcome {
  const match = trail.find((r) => r.result === 'matched');
  if (match && match.result === 'matched') return { localId, kind: 'matched', integrationId: match.candidateId, priority: match.priority };
  let best: LevelResult | undefined;
  let bestRank = REASON_ORDER.length;
  for (const level of trail) {
    const reason = reasonOf(level);
    const rank = reason ? REASON_ORDER.indexOf(reason) : REASON_ORDER.length;
    if (rank < bestRank) [best, bestRank] = [level, rank];
  }
  const reason = REASON_ORDER[bestRank] ?? 'noValues';
  const candidateIds = !best ? [] : 'candidateIds' in best ? best.candidateIds : 'candidateId' in best ? [best.candidateId] : [];
  return { localId, kind: 'unmatched', reason, candidateIds, levels: trail };
}

/** Every round at once, with the same candidates at each: for callers that already hold every candidate. */
export function matchRecords(input: {
  levels: readonly MatchLevel[];
  locals: readonly MatchRecord[];
  candidates: readonly MatchRecord[];
  coupledCandidateIds: ReadonlySet<string>;
}): MatchOutcome[] {
  const unavailable = new Set(input.coupledCandidateIds);
  const trails = new Map<string, LevelResult[]>(input.locals.map((l) => [l.id, []]));
  let pending = [...input.locals];
  for (const level of input.levels) {
    if (pending.length === 0) break;
    const results = levelResults({ level, locals: pending, candidates: input.candidates, unavailable });
    const winners = claimWinners(results);
    const matched = new Set(winners.values());
    for (const [localId, result] of results) trails.get(localId)?.push(settleClaim(result, localId, winners));
    for (const candidate of winners.keys()) unavailable.add(candidate);
    pending = pending.filter((l) => !matched.has(l.id));
  }
  return input.locals.map((l) => outcomeOf(l.id, trails.get(l.id) ?? []));
}

function listIds(ids: readonly string[]): string {
  const shown = ids.slice(0, MAX_IDS_IN_MESSAGE).join(', ');
  return ids.length > MAX_IDS_IN_MESSAGE ? `${shown} and ${ids.length - MAX_IDS_IN_MESSAGE} more` : shown;
}

function describeLevel(result: LevelResult, level: MatchLevel | undefined): string {
  const fields = level ? level.fields.map((f) => f.localField).join(' + ') : '?';
  const where = `priority ${result.priority} (${fields})`;
  switch (result.result) {
    case 'noValues':
      return `${where}: no value to match on`;
    case 'noCandidate':
      return `${where}: no candidate`;
    case 'several':
      return `${where}: several candidates ${listIds(result.candidateIds)}`;
    case 'coupled':
      return `${where}: candidate already coupled ${listIds(result.candidateIds)}`;
    case 'contested':
      return `${where}: candidate ${result.candidateId} went to local record ${result.winner} (same priority, smaller id)`;
    case 'claim':
    case 'matched':
      return `${where}: matched ${result.candidateId}`;
  }
}

/** The error-row message of an unmatched record: why, level by level, naming the candidates. */
export function describeUnmatched(input: { outcome: Extract<MatchOutcome, { kind: 'unmatched' }>; levels: readonly MatchLevel[] }): string {
  const { outcome, levels } = input;
  const headline: Record<UnmatchedReason, string> = {
    several: 'several candidates',
    contested: 'candidate went to another record',
    candidateCoupled: 'candidate already coupled',
    noCandidate: 'no candidate',
    noValues: 'no value in any match field',
  };
  const detail = outcome.levels
    .map((r) =>
      describeLevel(
        r,
        levels.find((l) => l.priority === r.priority),
      ),
    )
    .join('; ');
  return `No unique uncoupled matching record (${headline[outcome.reason]}): ${detail || 'no match criteria'}.`;
}
