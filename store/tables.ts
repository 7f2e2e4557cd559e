/** Table names of the store, defined once. */
export const TABLES = {
  mappings: 'integration_table_mappings',
  fieldMappings: 'integration_field_mappings',
  couplings: 'couplings',
  jobs: 'sync_jobs',
  jobErrors: 'sync_job_errors',
  runLocks: 'mapping_run_locks',
  uncoupledFailures: 'uncoupled_failures',
  matchClaims: 'match_claims',
  passUncoupled: 'pass_uncoupled',
  couplingRemovals: 'coupling_removals',
  creationLedger: 'creation_ledger',
  unmappedOptions: 'unmapped_option_values',
  migrations: 'coupling_sync_migrations',
} as const;
