/**
 * The single-sync baseline: a workflow that does nothing, no activity and no
 * store, so its rate and latency are what the Temporal server and SDK cost on
 * this machine before any of our work.
 */
export async function emptyWorkflow(id: string): Promise<string> {
  return id;
}
