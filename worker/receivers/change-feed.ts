/**
 * A change feed for systems that send no notifications (Knex tables; any
 * connector): every `intervalMs` it reads the keys of records modified since
 * the last look, through the connector's modified-on index (keys only, never
 * values), and tells the mapping's live sync which records changed. Starts
 * from now: what changed before is a scheduled or bulk run's to read. A page
 * full of keys is sent as "many changed" (an incremental run reads them).
 */
import type { LiveNotifier } from './notify-batcher';
import type { RecordKey } from '../../common/protocol';
import type { Side } from '../../common/types';
import { passDirections, sidesOf } from '../../domain/field-plan';
import type { Systems } from '../../activities/deps';
import type { Store } from '../../store/store';

/** Keys read per side and look; more than this is "many changed". */
const PAGE = 1000;

export interface ChangeFeedOptions {
  live: LiveNotifier;
  store: Store;
  systems: Systems;
  /** The mappings to watch; each side a mapping reads from is polled. */
  mappings: readonly string[];
  /** @default 1000 */
  intervalMs?: number;
  /** Where the feed says what went wrong with a look (it goes on at the next one). @default console.warn */
  warn?: (message: string) => void;
}

interface Cursor {
  mapping: string;
  side: Side;
  since: string;
  after: RecordKey | null;
}

export class ChangeFeed {
  private readonly cursors: Cursor[] = [];
  private timer: NodeJS.Timeout | null = null;
  private running: Promise<void> | null = null;
  private stopped = false;

  constructor(private readonly options: ChangeFeedOptions) {}

  /** Starts watching from now. */
  async start(): Promise<void> {
    const since = new Date().toISOString();
    for (const name of this.options.mappings) {
      const mapping = await this.options.store.requireMapping(name);
      const sides: Side[] = passDirections(mapping).map((d) => sidesOf(d).sourceSide);
      for (const side of sides) this.cursors.push({ mapping: name, side, since, after: null });
    }
    this.schedule();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = setTimeout(() => {
      this.running = this.look().finally(() => {
        this.running = null;
        this.schedule();
      });
    }, this.options.intervalMs ?? 1000);
  }

  /** One look at every watched side. */
  private async look(): Promise<void> {
    for (const cursor of this.cursors) {
      try {
        const mapping = await this.options.store.requireMapping(cursor.mapping);
        const local = cursor.side === 'local';
        const connector = this.options.systems[local ? mapping.local.system : mapping.integration.system];
        const keys = await connector.scanKeys({
          table: local ? mapping.local.table : mapping.integration.table,
          filter: local ? mapping.tableFilter : mapping.integrationTableFilter,
          since: cursor.since,
          after: cursor.after,
          limit: PAGE,
        });
        if (keys.length === 0) continue;
        const change = keys.length >= PAGE ? { side: cursor.side, many: true as const } : { side: cursor.side, ids: keys.map((k) => k.id) };
        await this.options.live.notify(cursor.mapping, change);
        cursor.after = keys[keys.length - 1];
      } catch (error) {
        (this.options.warn ?? console.warn)(
          `Change feed of ${cursor.mapping} (${cursor.side} side): ${(error as Error).message}; trying again at the next look.`,
        );
      }
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.running;
  }
}
