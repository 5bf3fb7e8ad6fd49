/**
 * An enqueue into a batch that is already done, adding jobs or naming another callback.
 * A done batch has had its one `done` event and callback, so it takes nothing more; nothing of
 * the call was enqueued. The API answers 409.
 */
export class BatchClosedError extends Error {
  override readonly name = 'BatchClosedError';
  /** The HTTP status the API answers with. */
  readonly statusCode = 409;

  constructor(readonly batchId: string) {
    super(
      `batch ${batchId} is done: it takes no new jobs and keeps its callback; enqueue them under another batch id (a batch built over several calls stays open with open: true until it is sealed)`,
    );
  }
}
