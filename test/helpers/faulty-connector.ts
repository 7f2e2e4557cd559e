/**
 * Wraps a connector to inject faults where a real system fails: a record that
 * keeps failing, a crash between the remote create and the coupling write,
 * throttling, slowness. Counts calls so tests can assert batching.
 */
import type { Connector, CreateRecord, UpdateRecord, WriteResult } from '../../connectors/connector';
import { ThrottledError } from '../../connectors/connector';

export interface Faults {
  /** Source-side creation keys or destination ids whose writes fail with a transient error. */
  failIds?: Set<string>;
  /** Throw after this many createMany calls have been applied (a crash after the remote write). */
  crashAfterCreateCalls?: number;
  /** Throttle this many calls with this Retry-After. */
  throttle?: { calls: number; retryAfterMs: number };
  /** Delay each write call. */
  delayMs?: number;
  /** Creates and updates whose values this accepts fail permanently, as a constraint the system enforces would. */
  rejectValues?: (values: Record<string, unknown>) => boolean;
}

const REJECTED: WriteResult = { ok: false, id: null, error: { kind: 'permanent', code: 'CHECK', message: 'the value violates a check constraint' } };

export class FaultyConnector implements Connector {
  readonly name: string;
  readonly calls = { createMany: 0, updateMany: 0, getMany: 0, readChanged: 0, crashes: 0, throttled: 0 };

  constructor(
    private readonly inner: Connector,
    readonly faults: Faults = {},
  ) {
    this.name = `faulty:${inner.name}`;
  }

  private async gate(): Promise<void> {
    if (this.faults.delayMs) await new Promise((r) => setTimeout(r, this.faults.delayMs));
    if (this.faults.throttle && this.faults.throttle.calls > 0) {
      this.faults.throttle.calls--;
      this.calls.throttled++;
      throw new ThrottledError('429 Too Many Requests', this.faults.throttle.retryAfterMs);
    }
  }

  describeTable(table: string) {
    return this.inner.describeTable(table);
  }
  get keyColumns() {
    return this.inner.keyColumns?.bind(this.inner);
  }
  scanKeys(request: Parameters<Connector['scanKeys']>[0]) {
    return this.inner.scanKeys(request);
  }
  readChanged(request: Parameters<Connector['readChanged']>[0]) {
    this.calls.readChanged++;
    return this.inner.readChanged(request);
  }
  getMany(request: Parameters<Connector['getMany']>[0]) {
    this.calls.getMany++;
    return this.inner.getMany(request);
  }
  findCandidates(request: Parameters<Connector['findCandidates']>[0]) {
    return this.inner.findCandidates(request);
  }
  deleteMany(table: string, ids: string[]) {
    return this.inner.deleteMany(table, ids);
  }

  async createMany(table: string, records: CreateRecord[]): Promise<WriteResult[]> {
    await this.gate();
    this.calls.createMany++;
    const failing = this.faults.failIds ?? new Set<string>();
    const rejected = new Set(records.filter((r) => this.faults.rejectValues?.(r.values)).map((r) => r.key));
    const passing = records.filter((r) => !failing.has(r.key) && !rejected.has(r.key));
    const written = await this.inner.createMany(table, passing);
    if (this.faults.crashAfterCreateCalls !== undefined && this.calls.createMany > this.faults.crashAfterCreateCalls && this.calls.crashes === 0) {
      this.calls.crashes++;
      throw new Error('simulated crash after the remote create, before the couplings were written');
    }
    const byKey = new Map(passing.map((r, i) => [r.key, written[i]]));
    return records.map(
      (r) =>
        byKey.get(r.key) ??
        (rejected.has(r.key) ? REJECTED : { ok: false, id: null, error: { kind: 'transient', message: `record ${r.key} is locked by another user` } }),
    );
  }

  async updateMany(table: string, records: UpdateRecord[]): Promise<WriteResult[]> {
    await this.gate();
    this.calls.updateMany++;
    const failing = this.faults.failIds ?? new Set<string>();
    const rejected = new Set(records.filter((r) => this.faults.rejectValues?.(r.values)).map((r) => r.id));
    const passing = records.filter((r) => !failing.has(r.id) && !rejected.has(r.id));
    const written = await this.inner.updateMany(table, passing);
    const byId = new Map(passing.map((r, i) => [r.id, written[i]]));
    return records.map(
      (r) =>
        byId.get(r.id) ??
        (rejected.has(r.id)
          ? { ...REJECTED, id: r.id }
          : { ok: false, id: r.id, error: { kind: 'transient', message: `record ${r.id} is locked by another user` } }),
    );
  }
}
