/** The `{"error":{"code","message"}}` body that Dataverse and Business Central return. */
export interface ODataError {
  code?: string;
  message: string;
}

export function parseODataError(status: number, text: string): ODataError {
  try {
    const body = JSON.parse(text) as { error?: { code?: unknown; message?: unknown } };
    if (body.error && typeof body.error.message === 'string') {
      return { code: typeof body.error.code === 'string' ? body.error.code : undefined, message: body.error.message };
    }
  } catch {
    /* not JSON */
  }
  return { message: `HTTP ${status}${text ? `: ${text.slice(0, 200)}` : ''}` };
}
