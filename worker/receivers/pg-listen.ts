/**
 * Live sync for Knex tables on PostgreSQL: `LISTEN`s on the channel the change
 * trigger notifies (connectors/knex-change-trigger.ts) and tells each mapping
 * that reads the table which records changed. One connection per database,
 * held apart from the connector's pool (a pooled connection would lose its
 * LISTEN when returned). PostgreSQL does not keep notifications for a
 * listener that is away, so after every reconnect each watched side is told
 * "many changed" and an incremental run reads what the gap held; a notify
 * that fails is sent again the same way until it goes through.
 */
import type { Knex } from 'knex';
import { Client as PgClient, type ClientConfig, type Notification } from 'pg';
import type { LiveNotifier } from './notify-batcher';
import type { LiveChange } from '../../common/inputs';
import type { Side } from '../../common/types';
import { passDirections, sidesOf } from '../../domain/field-plan';
import type { Systems } from '../../activities/deps';
import type { Store } from '../../store/store';
import { isPostgres } from '../../store/database-url';
import { changePayloadSchema, DEFAULT_CHANGE_CHANNEL, hasChangeTrigger } from '../../connectors/knex-change-trigger';

export interface PgListenOptions {
  live: LiveNotifier;
  store: Store;
  systems: Systems;
  /** The Knex instance of each Knex system, by system name (worker/systems-config.ts `knexes`). */
  knexes: Record<string, Knex>;
  /** The mappings to watch; each side a mapping reads from a PostgreSQL Knex table is listened to. */
  mappings: readonly string[];
  /** @default DEFAULT_CHANGE_CHANNEL */
  channel?: string;
  /** Wait before the first reconnect, doubled up to `maxReconnectMs`. @default 500 */
  reconnectMs?: number;
  /** @default 30000 */
  maxReconnectMs?: number;
  /** @default console.warn */
  warn?: (message: string) => void;
}

interface Watch {
  mapping: string;
  side: Side;
}

interface Database {
  system: string;
  settings: ClientConfig;
  /** The schema the connector's tables resolve to; notifications name theirs. */
  schema: string;
  /** Watches by table. */
  tables: Map<string, Watch[]>;
  client: PgClient | null;
  retryMs: number;
  timer: NodeJS.Timeout | null;
}

export class PgChangeListener {
  private readonly databases: Database[] = [];
  /** Watches whose last notify failed: told "many" again until it goes through. */
  private readonly owed = new Map<string, Watch>();
  private sending: Promise<void> = Promise.resolve();
  private stopped = false;
  private owedTimer: NodeJS.Timeout | null = null;
  private owedMs = 0;

  constructor(private readonly options: PgListenOptions) {}

  private get warn(): (message: string) => void {
    return this.options.warn ?? console.warn;
  }

  /** The sides listened to, as "MAPPING local customer". */
  get watching(): string[] {
    return this.databases.flatMap((d) => [...d.tables].flatMap(([table, watches]) => watches.map((w) => `${w.mapping} ${w.side} ${d.system}.${table}`)));
  }

  /** Checks every watched table has its trigger, then listens; refuses a mapping with no side on PostgreSQL. */
  async start(): Promise<void> {
    for (const name of this.options.mappings) {
      const mapping = await this.options.store.requireMapping(name);
      const sides: Side[] = passDirections(mapping).map((d) => sidesOf(d).sourceSide);
      let listened = 0;
      for (const side of sides) {
        const { system, table } = side === 'local' ? mapping.local : mapping.integration;
        const knex = Object.hasOwn(this.options.knexes, system) ? this.options.knexes[system] : undefined;
        if (!knex || !isPostgres(knex)) continue;
        const idColumn = this.options.systems[system]?.keyColumns?.(table).id;
        if (!(await hasChangeTrigger(knex, { table, idColumn, channel: this.options.channel })))
          throw new Error(
            `Live sync of ${name}: table ${system}.${table} has no change trigger; add it with installChangeTrigger(knex, { table: '${table}' }) in a migration, or \`coupling-sync pg-trigger install\`.`,
          );
        let database = this.databases.find((d) => d.system === system);
        if (!database) {
          const [row] = (await knex.raw('select current_schema() as schema')).rows as { schema: string }[];
          const settings = (knex.client as { connectionSettings: ClientConfig }).connectionSettings;
          database = { system, settings, schema: row.schema, tables: new Map(), client: null, retryMs: 0, timer: null };
          this.databases.push(database);
        }
        database.tables.set(table, [...(database.tables.get(table) ?? []), { mapping: name, side }]);
        listened++;
      }
      if (listened === 0)
        throw new Error(`Live sync of ${name}: neither side it reads is a Knex table on PostgreSQL; use LIVE_SYNC_FEED (polling) or the service's webhooks.`);
    }
    for (const database of this.databases) await this.connect(database, false);
  }

  private async connect(database: Database, again: boolean): Promise<void> {
    if (this.stopped) return;
    const client = new PgClient(database.settings);
    database.client = client;
    client.on('notification', (message) => this.received(database, message));
    client.on('error', (error) => this.lost(database, client, error));
    client.on('end', () => this.lost(database, client, new Error('connection closed')));
    try {
      await client.connect();
      await client.query(`listen "${this.options.channel ?? DEFAULT_CHANGE_CHANNEL}"`);
    } catch (error) {
      this.lost(database, client, error as Error);
      if (!again) throw error;
      return;
    }
    database.retryMs = 0;
    // Nothing was heard while away: every side of this database reads its changes itself.
    if (again) for (const watches of database.tables.values()) for (const w of watches) this.send(w, { side: w.side, many: true });
  }

  private lost(database: Database, client: PgClient, error: Error): void {
    if (this.stopped || database.client !== client) return;
    database.client = null;
    client.removeAllListeners();
    client.end().catch(() => undefined);
    database.retryMs = Math.min(this.options.maxReconnectMs ?? 30_000, database.retryMs ? database.retryMs * 2 : (this.options.reconnectMs ?? 500));
    this.warn(`Listening to ${database.system}: ${error.message}; connecting again in ${database.retryMs} ms (then each side reads what changed meanwhile).`);
    database.timer = setTimeout(() => {
      database.timer = null;
      void this.connect(database, true);
    }, database.retryMs);
  }

  private received(database: Database, message: Notification): void {
    let payload;
    try {
      payload = changePayloadSchema.parse(JSON.parse(message.payload ?? ''));
    } catch {
      this.warn(`Listening to ${database.system}: a notification on ${message.channel} that is not a change trigger's; ignored.`);
      return;
    }
    if (payload.schema !== database.schema) return;
    for (const w of database.tables.get(payload.table) ?? [])
      this.send(w, 'ids' in payload ? { side: w.side, ids: payload.ids } : { side: w.side, many: true });
  }

  /** One notify at a time, in the order heard. */
  private send(watch: Watch, change: LiveChange): void {
    this.sending = this.sending.then(async () => {
      try {
        await this.options.live.notify(watch.mapping, change);
        this.owedMs = 0;
      } catch (error) {
        this.warn(`Live sync of ${watch.mapping} (${watch.side} side) was not told of a change: ${(error as Error).message}; telling it "many changed" later.`);
        this.owe(watch);
      }
    });
  }

  private owe(watch: Watch): void {
    this.owed.set(`${watch.mapping}\u0000${watch.side}`, watch);
    if (this.owedTimer || this.stopped) return;
    this.owedMs = Math.min(this.options.maxReconnectMs ?? 30_000, this.owedMs ? this.owedMs * 2 : (this.options.reconnectMs ?? 500));
    this.owedTimer = setTimeout(() => {
      this.owedTimer = null;
      const owed = [...this.owed.values()];
      this.owed.clear();
      for (const w of owed) this.send(w, { side: w.side, many: true });
    }, this.owedMs);
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.owedTimer) clearTimeout(this.owedTimer);
    for (const database of this.databases) {
      if (database.timer) clearTimeout(database.timer);
      const client = database.client;
      database.client = null;
      if (client) {
        client.removeAllListeners();
        await client.end().catch(() => undefined);
      }
    }
    await this.sending;
  }
}
