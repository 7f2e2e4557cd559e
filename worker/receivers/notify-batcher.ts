/**
 * Coalesces the receivers' notifications before they become signals. A storm
 * in a service arrives as one webhook per record (Dataverse posts each change
 * on its own), and a signal per post would grow the live sync's history by an
 * event each and wake it each time. Notifications for one mapping and side
 * within `windowMs` go as one signal (ids merged, "many" taking over); each
 * caller's promise settles when the signal carrying its change was sent, so a
 * receiver that answers after it still answers only for what reached Temporal.
 */
import type { LiveChange } from '../../common/inputs';
import type { Side } from '../../common/types';
import { MAX_RECORD_IDS } from '../../common/constants';

/** What receivers need of a live sync: LiveSync itself, or a NotifyBatcher in front of it. */
export interface LiveNotifier {
  notify(mapping: string, change: LiveChange): Promise<unknown>;
}

export interface NotifyBatcherOptions {
  /** How long notifications are gathered before they are sent. @default 50 */
  windowMs?: number;
  /** Ids that send a batch at once. @default 1000 */
  maxIds?: number;
}

interface Batch {
  mapping: string;
  side: Side;
  ids: Set<string>;
  many: boolean;
  timer: NodeJS.Timeout;
  waiters: { resolve(): void; reject(error: unknown): void }[];
}

export class NotifyBatcher implements LiveNotifier {
  private readonly open = new Map<string, Batch>();
  private readonly sending = new Set<Promise<void>>();

  constructor(
    private readonly live: LiveNotifier,
    private readonly options: NotifyBatcherOptions = {},
  ) {}

  notify(mapping: string, change: LiveChange): Promise<void> {
    const key = `${mapping}\u0000${change.side}`;
    let batch = this.open.get(key);
    if (!batch) {
      batch = { mapping, side: change.side, ids: new Set(), many: false, waiters: [], timer: setTimeout(() => this.flush(key), this.options.windowMs ?? 50) };
      this.open.set(key, batch);
    }
    if (change.many) batch.many = true;
    else for (const id of change.ids ?? []) batch.ids.add(id);
    // Past what one signal may carry, the live sync is told many changed (an incremental run reads them).
    if (batch.ids.size > MAX_RECORD_IDS) batch.many = true;
    const settled = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    if (!batch.many && batch.ids.size >= (this.options.maxIds ?? 1000)) this.flush(key);
    return settled;
  }

  private flush(key: string): void {
    const batch = this.open.get(key);
    if (!batch) return;
    this.open.delete(key);
    clearTimeout(batch.timer);
    const change: LiveChange = batch.many ? { side: batch.side, many: true } : { side: batch.side, ids: [...batch.ids] };
    const sent = this.live.notify(batch.mapping, change).then(
      () => batch.waiters.forEach((w) => w.resolve()),
      (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
    );
    this.sending.add(sent);
    void sent.finally(() => this.sending.delete(sent));
  }

  /** Sends what is gathered now and waits for every signal in flight. */
  async close(): Promise<void> {
    for (const key of [...this.open.keys()]) this.flush(key);
    await Promise.all(this.sending);
  }
}
