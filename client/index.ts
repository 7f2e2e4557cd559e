export { CouplingSyncClient, RunBusyError, type CouplingSyncClientOptions } from './coupling-sync-client';
export { workflowIds } from './workflow-ids';
export { LiveSync, type LiveSyncSettings } from './live-sync';
export { SyncSchedules, scheduleIdFor, DEFAULT_SCHEDULE_INTERVAL, type ScheduleInfo, type ScheduleOptions } from './schedules';
export { AesGcmPayloadCodec, codecDataConverterFromEnv, startCodecServer, type AesGcmPayloadCodecOptions, type CodecServerOptions } from '../codec';
