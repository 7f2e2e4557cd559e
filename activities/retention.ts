/** One batch of log retention (store/retention.ts): repeatable, since a batch deleted twice deletes nothing the second time. */
import { deleteLogRowsBefore, type LogRowsDeleted } from '../store/retention';
import type { ActivityDeps } from './deps';

export interface DeleteOldLogRowsInput {
  /** ISO time: rows older than this go. */
  before: string;
  batchSize: number;
}

export function createRetentionActivities(deps: ActivityDeps) {
  return {
    async deleteOldLogRows(input: DeleteOldLogRowsInput): Promise<LogRowsDeleted> {
      return deleteLogRowsBefore(deps.store.knex, input.before, input.batchSize);
    },
  };
}
