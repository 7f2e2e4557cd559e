/** Job rows and error rows as the store returns them, for the store and the console's queries. */
import { COUNTER_NAMES, emptyCounters, type JobCounters, type JobStatus, type JobType, type SyncDirection } from '../common/types';

type Row = Record<string, unknown>;

const str = (v: unknown): string | null => (v === null || v === undefined ? null : String(v));

export interface JobRow {
  id: string;
  mappingName: string;
  type: JobType;
  direction: SyncDirection | null;
  workflowId: string | null;
  runId: string | null;
  status: JobStatus;
  startedAt: string;
  finishedAt: string | null;
  message: string | null;
  counters: JobCounters;
}

export interface JobErrorRow {
  id?: number;
  jobId: string;
  mappingName: string;
  sourceRecordId: string;
  destinationRecordId: string | null;
  message: string;
  fullMessage: string | null;
  attempts: number;
  /** 'warning': the record was synchronized, but not all of it (a cleared lookup); not a failure. @default 'error' */
  severity?: 'error' | 'warning';
  createdAt?: string;
}

export function toJob(r: Row): JobRow {
  const counters = emptyCounters();
  for (const name of COUNTER_NAMES) counters[name] = Number(r[name] ?? 0);
  return {
    id: String(r.id),
    mappingName: String(r.mapping_name),
    type: String(r.type) as JobType,
    direction: str(r.direction) as SyncDirection | null,
    workflowId: str(r.workflow_id),
    runId: str(r.run_id),
    status: String(r.status) as JobStatus,
    startedAt: String(r.started_at),
    finishedAt: str(r.finished_at),
    message: str(r.message),
    counters,
  };
}

export function toJobError(r: Row): JobErrorRow {
  return {
    id: Number(r.id),
    jobId: String(r.job_id),
    mappingName: String(r.mapping_name),
    sourceRecordId: String(r.source_record_id),
    destinationRecordId: str(r.destination_record_id),
    message: String(r.message),
    fullMessage: str(r.full_message),
    attempts: Number(r.attempts),
    severity: r.severity === 'warning' ? 'warning' : 'error',
    createdAt: String(r.created_at),
  };
}
