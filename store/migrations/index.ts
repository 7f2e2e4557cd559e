/**
 * Migrations are code, listed here in order, so they run the same from
 * TypeScript sources, compiled output or a bundle (no directory scanning).
 */
import type { Knex } from 'knex';
import * as initial from './001-initial';
import * as runLocks from './002-run-locks';
import * as couplingActions from './003-coupling-actions';
import * as trust from './004-trust';
import * as jobContinuation from './005-job-continuation';
import * as leaseToken from './006-lease-token';
import * as couplingRemovals from './007-coupling-removals';
import * as uncoupledTally from './008-uncoupled-tally';
import * as creationLedger from './009-creation-ledger';
import * as lookups from './010-lookups';
import * as optionsTemplates from './011-options-templates';
import * as consoleIndexes from './012-console-indexes';
import * as integrationRecordIndex from './013-integration-record-index';

interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

const MIGRATIONS: Record<string, Migration> = {
  '001-initial': initial,
  '002-run-locks': runLocks,
  '003-coupling-actions': couplingActions,
  '004-trust': trust,
  '005-job-continuation': jobContinuation,
  '006-lease-token': leaseToken,
  '007-coupling-removals': couplingRemovals,
  '008-uncoupled-tally': uncoupledTally,
  '009-creation-ledger': creationLedger,
  '010-lookups': lookups,
  '011-options-templates': optionsTemplates,
  '012-console-indexes': consoleIndexes,
  '013-integration-record-index': integrationRecordIndex,
};

export const migrationSource: Knex.MigrationSource<string> = {
  getMigrations: async () => Object.keys(MIGRATIONS),
  getMigrationName: (name) => name,
  getMigration: async (name) => {
    const migration = MIGRATIONS[name];
    if (!migration) throw new Error(`Unknown migration ${name}`);
    return migration;
  },
};
