/**
 * The couplings that need an administrator's attention, as SQL predicates
 * written once: the partial indexes of migration 012 and the console's
 * queries must use the same text, or the database cannot use the indexes.
 */
export const ATTENTION_PREDICATES = {
  failed_to_integration: "last_to_integration_result = 'Failure'",
  failed_from_integration: "last_from_integration_result = 'Failure'",
  skipped: 'skipped = true',
} as const;

export type AttentionKind = keyof typeof ATTENTION_PREDICATES;
