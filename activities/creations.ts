/**
 * Counting creates exactly. A create is by key, so a replay names the same
 * record: the connector says whether the key named a record already there.
 * Such a record is the batch's own create when an earlier attempt of the same
 * batch made it (killed before it could couple it), and otherwise a record
 * written over (created again after an uncoupling): modified, not inserted.
 * The creation ledger, noted before and after each create, tells the two apart.
 */
import type { CreationEntry, Store } from '../store/store';

export interface CreateAccount {
  /** Whether the record this key names was created by this batch (now or in an earlier attempt). */
  fresh(key: string, existed: boolean | undefined): boolean;
  /** Notes what the create found, for the keys this batch had not noted before. */
  noteResults(results: readonly { key: string; existed: boolean }[]): Promise<void>;
}

/** Notes, before the create, that this batch is creating these keys; a batch without a token counts every written-over record as modified. */
export async function beginCreates(store: Store, mappingName: string, keys: readonly string[], batchToken: string | undefined): Promise<CreateAccount> {
  // Keys new to the ledger are noted 'pending' as they are read; only the others need a second statement.
  const before = batchToken && keys.length > 0 ? await store.claimCreations(mappingName, keys, batchToken) : new Map<string, CreationEntry>();
  const mine = (key: string): boolean => !!batchToken && before.get(key)?.batchToken === batchToken;
  if (batchToken) {
    // A key another batch created before most likely names a record still there: a retry after a kill that
    // lands before the create's outcome is noted must count it written over, not created.
    await store.noteCreations(
      mappingName,
      [...before.keys()].filter((k) => !mine(k)).map((key) => ({ key, batchToken, outcome: 'recreating' as const })),
    );
  }
  return {
    // Written over by this batch's earlier attempt: its own create only if the key was new to the ledger then.
    fresh: (key, existed) => !existed || (mine(key) && (before.get(key)?.outcome === 'pending' || before.get(key)?.outcome === 'created')),
    async noteResults(results) {
      if (!batchToken) return;
      // Only outcomes a retry would read otherwise: 'pending' already means created, 'recreating' written over.
      await store.noteCreations(
        mappingName,
        results
          .filter((r) => !mine(r.key) && r.existed !== before.has(r.key))
          .map((r) => ({ key: r.key, batchToken, outcome: r.existed ? 'existed' : 'created' })),
      );
    },
  };
}
