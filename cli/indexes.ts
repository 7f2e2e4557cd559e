/**
 * `coupling-sync indexes <mapping>`: the match indexes a mapping's integration
 * table needs (one expression index per match field, on exactly what matching
 * compares), created on the database given, or printed as SQL for teams whose
 * migrations are plain SQL. Without them each candidate query reads the whole
 * table.
 */
import type { CliOutput } from './output';
import { Command } from 'commander';
import knexFactory from 'knex';
import { ensureMatchIndexes, matchIndexStatements } from '../connectors/knex-table-connector';
import { matchIndexFields } from '../domain/matching';
import { knexConfigFromUrl } from '../store/database-url';
import type { Store } from '../store/store';

export interface IndexesCommandDeps extends CliOutput {
  store(): Promise<Store>;
}

export function indexesCommand(deps: IndexesCommandDeps): Command {
  const { print, line } = deps;
  return new Command('indexes')
    .description("create (or print, with --sql) the match indexes of a mapping's integration table")
    .argument('<mapping>')
    .requiredOption('--database-url <url>', 'the database that holds the integration table (sqlite:<file> or postgres://...)')
    .option('--schema <name>', 'PostgreSQL: the schema that holds the table')
    .option('--sql', 'print the CREATE INDEX statements instead of creating them')
    .action(async (name: string, o: { databaseUrl: string; schema?: string; sql?: boolean }) => {
      const mapping = await (await deps.store()).requireMapping(name);
      const table = mapping.integration.table;
      const fields = matchIndexFields(mapping);
      if (fields.length === 0) {
        print({ mapping: name, table, indexes: [] }, () => line`Mapping ${name} matches on no field: no index needed`);
        return;
      }
      const config = knexConfigFromUrl({ databaseUrl: o.databaseUrl, schema: o.schema });
      // Printing needs the dialect only, not a connection.
      const knex = knexFactory(o.sql ? { client: config.client, useNullAsDefault: true } : config);
      try {
        if (o.sql) {
          const statements = matchIndexStatements(knex, table, fields);
          print({ mapping: name, table, statements }, () => statements.map((s) => line`${s};`).join('\n'));
        } else {
          const indexes = await ensureMatchIndexes(knex, table, fields);
          print({ mapping: name, table, indexes }, () => line`Match indexes of ${table} for ${name}: ${indexes.join(', ')}`);
        }
      } finally {
        await knex.destroy();
      }
    });
}
