/**
 * The PostgreSQL half of live sync for Knex tables: a trigger that tells
 * listeners which rows a statement inserted, updated or deleted, by
 * `pg_notify` on a channel (worker/receivers/pg-listen.ts `LISTEN`s). One
 * notification per statement, not per row: the statement's transition table
 * gives the ids; past `MAX_NOTIFIED_IDS` (or PostgreSQL's payload limit) it
 * says "many" and the live sync runs an incremental pass instead. Notifications
 * are sent when the transaction commits, so a rolled-back change sends none.
 *
 * Call `installChangeTrigger` from a Knex migration (or `coupling-sync
 * pg-trigger install`); it is safe to run again, and `removeChangeTrigger`
 * undoes it.
 */
import type { Knex } from 'knex';
import { z } from 'zod';
import { KNEX_TABLE_DEFAULTS } from './knex-table-connector';
import { isPostgres } from '../store/database-url';

/** The channel the trigger notifies and the worker listens on, unless told otherwise. */
export const DEFAULT_CHANGE_CHANNEL = 'coupling_sync_changes';

/** Ids per notification; a statement that changes more sends "many". */
export const MAX_NOTIFIED_IDS = 200;

/** PostgreSQL refuses payloads of 8000 bytes or more; ids beyond this are "many". */
const MAX_PAYLOAD_BYTES = 7000;

export interface ChangeTriggerOptions {
  table: string;
  /** @default 'id' */
  idColumn?: string;
  /** @default DEFAULT_CHANGE_CHANNEL */
  channel?: string;
}

/** What a notification says: the table (and its schema) and the ids changed, or that many were. */
export const changePayloadSchema = z.union([
  z.strictObject({ schema: z.string(), table: z.string(), ids: z.array(z.string()).min(1) }),
  z.strictObject({ schema: z.string(), table: z.string(), many: z.literal(true) }),
]);
export type ChangePayload = z.infer<typeof changePayloadSchema>;

const IDENTIFIER = /^[A-Za-z_][A-Za-z0-9_]{0,62}$/;

function names(options: ChangeTriggerOptions): { fn: string; trigger: (op: string) => string; channel: string; idColumn: string } {
  const channel = options.channel ?? DEFAULT_CHANGE_CHANNEL;
  const idColumn = options.idColumn ?? KNEX_TABLE_DEFAULTS.idColumn;
  // Checked rather than quoted: the names become parts of other identifiers and a channel name.
  for (const [what, value] of [
    ['table', options.table],
    ['idColumn', idColumn],
    ['channel', channel],
  ] as const) {
    if (!IDENTIFIER.test(value)) throw new Error(`Change trigger: ${what} "${value}" must be a plain SQL identifier (letters, digits, _; at most 63).`);
  }
  const base = `${options.table}_coupling_sync`.slice(0, 50);
  return { fn: `${base}_notify`, trigger: (op) => `${base}_${op}`, channel, idColumn };
}

function requirePostgres(knex: Knex): void {
  if (!isPostgres(knex))
    throw new Error(
      `Change trigger: PostgreSQL only (this Knex uses "${String(knex.client.config.client)}"); on SQLite the worker polls instead (LIVE_SYNC_FEED).`,
    );
}

/** The trigger's name for one operation (pg_trigger.tgname), for checks. */
export function changeTriggerNames(options: ChangeTriggerOptions): string[] {
  const { trigger } = names(options);
  return ['insert', 'update', 'delete'].map(trigger);
}

/** Adds (or replaces) the table's change triggers. */
export async function installChangeTrigger(knex: Knex, options: ChangeTriggerOptions): Promise<void> {
  requirePostgres(knex);
  const { fn, trigger, channel, idColumn } = names(options);
  const { table } = options;
  await knex.transaction(async (trx) => {
    await trx.raw(`
      create or replace function "${fn}"() returns trigger language plpgsql as $body$
      declare
        n integer;
        ids json;
      begin
        if tg_op = 'DELETE' then
          select count(*), json_agg(k) into n, ids from (select "${idColumn}"::text as k from old_rows limit ${MAX_NOTIFIED_IDS + 1}) c;
        else
          select count(*), json_agg(k) into n, ids from (select "${idColumn}"::text as k from new_rows limit ${MAX_NOTIFIED_IDS + 1}) c;
        end if;
        if n = 0 then
          return null;
        end if;
        if n > ${MAX_NOTIFIED_IDS} or octet_length(ids::text) > ${MAX_PAYLOAD_BYTES} then
          perform pg_notify('${channel}', json_build_object('schema', tg_table_schema, 'table', tg_table_name, 'many', true)::text);
        else
          perform pg_notify('${channel}', json_build_object('schema', tg_table_schema, 'table', tg_table_name, 'ids', ids)::text);
        end if;
        return null;
      end
      $body$`);
    // A trigger with a transition table serves one event, so three of them share the function.
    for (const [op, rows] of [
      ['insert', 'new table as new_rows'],
      ['update', 'new table as new_rows'],
      ['delete', 'old table as old_rows'],
    ] as const) {
      await trx.raw(`drop trigger if exists "${trigger(op)}" on "${table}"`);
      await trx.raw(`create trigger "${trigger(op)}" after ${op} on "${table}" referencing ${rows} for each statement execute function "${fn}"()`);
    }
  });
}

/** Removes the table's change triggers and their function. */
export async function removeChangeTrigger(knex: Knex, options: ChangeTriggerOptions): Promise<void> {
  requirePostgres(knex);
  const { fn, trigger } = names(options);
  await knex.transaction(async (trx) => {
    for (const op of ['insert', 'update', 'delete']) await trx.raw(`drop trigger if exists "${trigger(op)}" on "${options.table}"`);
    await trx.raw(`drop function if exists "${fn}"()`);
  });
}

/** Whether all three triggers are on the table (in the connection's search path). */
export async function hasChangeTrigger(knex: Knex, options: ChangeTriggerOptions): Promise<boolean> {
  requirePostgres(knex);
  const wanted = changeTriggerNames(options);
  const found: { rows: { tgname: string }[] } = await knex.raw(
    `select t.tgname from pg_trigger t where t.tgrelid = to_regclass(?) and t.tgname = any(?) and not t.tgisinternal`,
    [`"${options.table}"`, wanted],
  );
  return found.rows.length === wanted.length;
}
