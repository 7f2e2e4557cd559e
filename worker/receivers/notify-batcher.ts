/**
 * Coalesces the receivers' notifications before they become signals. A storm
 * in a service arrives as one webhook per record (Dataverse posts each change
 * on its own), and a signal per post would grow the live sync's history by an
 * event each and wake it each time. Per mapping and side one signal is in
 * flight at a time: a notification with none in flight goes at once (no added
 * latency), and those that arrive meanwhile go together in the next one (ids
 * merged, "many" taking over). Each caller's promise settles when the signal
 * carrying its change was sent, so a receiver that answers after it still
 * answers only for what reached Temporal.
 */
import type { LiveChange } from '../../common/inputs';
import type { Side } from '../../common/types';
import { MAX_RECORD_IDS } from '../../common/constants';

/** What receivers need of a live sync: LiveSync itself, or a NotifyBatcher in front of it. */
export interface LiveNotifier {
  notify(mapping: string, change: LiveChange): Promise<unknown>;
}

interface Batch {
  ids: Set<string>;
  many: boolean;
  waiters: { resolve(): void; reject(error: unknown): void }[];
}

interface Lane {
  mapping: string;
  side: Side;
  next: Batch | null;
  sending: Promise<void> | null;
}

export class NotifyBatcher implements LiveNotifier {
  private readonly lanes = new Map<string, Lane>();

  constructor(private readonly live: LiveNotifier) {}

  notify(mapping: string, change: LiveChange): Promise<void> {
    const key = `${mapping}\u0000${change.side}`;
    let lane = this.lanes.get(key);
    if (!lane) {
      lane = { mapping, side: change.side, next: null, sending: null };
      this.lanes.set(key, lane);
    }
    const batch = (lane.next ??= { ids: new Set(), many: false, waiters: [] });
    if (change.many) batch.many = true;
    else for (const id of change.ids ?? []) batch.ids.add(id);
    // Past what one signal may carry, the live sync is told many changed (an incremental run reads them).
    if (batch.ids.size > MAX_RECORD_IDS) batch.many = true;
    const settled = new Promise<void>((resolve, reject) => batch.waiters.push({ resolve, reject }));
    this.pump(key, lane);
    return settled;
  }

  private pump(key: string, lane: Lane): void {
    if (lane.sending || !lane.next) {
      if (!lane.sending) this.lanes.delete(key);
      return;
    }
    const batch = lane.next;
    lane.next = null;
    const change: LiveChange = batch.many ? { side: lane.side, many: true } : { side: lane.side, ids: [...batch.ids] };
    lane.sending = this.live
      .notify(lane.mapping, change)
      .then(
        () => batch.waiters.forEach((w) => w.resolve()),
        (error: unknown) => batch.waiters.forEach((w) => w.reject(error)),
      )
      .finally(() => {
        lane.sending = null;
        this.pump(key, lane);
      });
  }

  /** Waits until everything gathered has been sent. */
  async close(): Promise<void> {
    while (this.lanes.size > 0) await Promise.all([...this.lanes.values()].map((l) => l.sending));
  }
}
