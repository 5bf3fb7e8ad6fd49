import {
  AccessDeniedException,
  InternalServerException,
  ModelErrorException,
  ModelNotReadyException,
  ModelStreamErrorException,
  ModelTimeoutException,
  ResourceNotFoundException,
  ServiceQuotaExceededException,
  ServiceUnavailableException,
  ThrottlingException,
  ValidationException,
} from '@aws-sdk/client-bedrock-runtime';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { classifyError, contentFiltered, type ModelErrorKind, parseRetryAfter } from './errors.js';

const meta = (httpStatusCode: number) => ({
  httpStatusCode,
  requestId: 'req-1',
  attempts: 1,
  totalRetryDelay: 0,
});

describe('classifyError', () => {
  const cases: [string, unknown, ModelErrorKind, boolean][] = [
    [
      'ThrottlingException',
      new ThrottlingException({
        message: 'Too many requests, please wait before trying again.',
        $metadata: meta(429),
      }),
      'throttled',
      true,
    ],
    [
      'ServiceUnavailableException',
      new ServiceUnavailableException({ message: 'Service Unavailable.', $metadata: meta(503) }),
      'unavailable',
      true,
    ],
    [
      'ModelNotReadyException',
      new ModelNotReadyException({ message: 'Model is not ready for inference.', $metadata: meta(429) }),
      'unavailable',
      true,
    ],
    [
      'InternalServerException',
      new InternalServerException({ message: 'Internal server error', $metadata: meta(500) }),
      'internal',
      true,
    ],
    [
      'ModelErrorException',
      new ModelErrorException({
        message: 'The model returned the following errors: boom',
        $metadata: meta(424),
      }),
      'internal',
      true,
    ],
    [
      'ModelStreamErrorException',
      new ModelStreamErrorException({ message: 'stream broke', $metadata: meta(424) }),
      'internal',
      true,
    ],
    [
      'ModelTimeoutException',
      new ModelTimeoutException({ message: 'Model has timed out.', $metadata: meta(408) }),
      'timeout',
      true,
    ],
    [
      'AccessDeniedException',
      new AccessDeniedException({
        message: "You don't have access to the model with the specified model ID.",
        $metadata: meta(403),
      }),
      'access_denied',
      false,
    ],
    [
      'ResourceNotFoundException',
      new ResourceNotFoundException({ message: 'Model not found', $metadata: meta(404) }),
      'access_denied',
      false,
    ],
    [
      'ServiceQuotaExceededException',
      new ServiceQuotaExceededException({ message: 'quota', $metadata: meta(400) }),
      'quota_exceeded',
      false,
    ],
    [
      'ValidationException',
      new ValidationException({
        message: 'Malformed input request: #: required key [max_tokens] not found',
        $metadata: meta(400),
      }),
      'invalid_request',
      false,
    ],
  ];

  it.each(cases)('maps %s to its kind, keeping status and request id', (name, error, kind, retryable) => {
    const e = classifyError(error, { modelId: 'm' });

    expect(e.kind).toBe(kind);
    expect(e.retryable).toBe(retryable);
    expect(e.originalName).toBe(name);
    expect(e.httpStatus).toBe((error as { $metadata: { httpStatusCode: number } }).$metadata.httpStatusCode);
    expect(e.requestId).toBe('req-1');
    expect(e.modelId).toBe('m');
    expect(e.cause).toBe(error);
  });

  it.each([
    ['Anthropic', 'prompt is too long: 209353 tokens > 200000 maximum'],
    [
      'Anthropic through Converse',
      'The model returned the following errors: prompt is too long: 200049 tokens > 200000 maximum',
    ],
    ['Claude, Mistral 7B, Cohere', 'Input is too long for requested model.'],
    [
      'Claude through Converse',
      'The model returned the following errors: Input is too long for requested model.',
    ],
    [
      'Titan',
      '400 Bad Request: Too many input tokens. Max input tokens: 8192, request input token count: 9279 ',
    ],
    ['Llama', "This model's maximum context length is 8192 tokens. Please reduce the length of the prompt"],
    [
      'Mistral Large 2',
      'Prompt contains 235396 tokens and 0 draft tokens, too large for model with 131072 maximum context length',
    ],
    [
      'Claude 4 (input plus max_tokens)',
      'input length and `max_tokens` exceed context limit: 164035 + 64000 > 204658, decrease input length or `max_tokens` and try again',
    ],
    ['newer Claude stop reason', 'model_context_window_exceeded'],
    ['OpenAI-style models', "This model's maximum context length is 128000 tokens."],
  ])('maps the %s context-length message to context_overflow', (_family, message) => {
    const e = classifyError(new ValidationException({ message, $metadata: meta(400) }));

    expect(e.kind).toBe('context_overflow');
  });

  it('treats an id Bedrock does not know as a model that is not there: the chain moves on', () => {
    const e = classifyError(
      new ValidationException({ message: 'The provided model identifier is invalid.', $metadata: meta(400) }),
    );

    expect(e.kind).toBe('access_denied');
    expect(e.retryable).toBe(false);
  });

  it('keeps retry-after as milliseconds, in seconds or as an HTTP date', () => {
    const withHeader = (value: string) =>
      Object.assign(new ThrottlingException({ message: 'slow down', $metadata: meta(429) }), {
        $response: { headers: { 'retry-after': value } },
      });

    expect(classifyError(withHeader('3')).retryAfterMs).toBe(3000);
    const now = Date.parse('2026-01-01T00:00:00Z');
    expect(classifyError(withHeader('Thu, 01 Jan 2026 00:00:05 GMT'), { now }).retryAfterMs).toBe(5000);
    expect(parseRetryAfter('soon')).toBeUndefined();
  });

  it('maps network failures: refused/reset to unavailable, timeouts to timeout', () => {
    const sys = (code: string) => Object.assign(new Error(`connect ${code} 127.0.0.1:4010`), { code });

    expect(classifyError(sys('ECONNREFUSED')).kind).toBe('unavailable');
    expect(classifyError(sys('ECONNRESET')).kind).toBe('unavailable');
    expect(classifyError(sys('ERR_HTTP2_GOAWAY_SESSION')).kind).toBe('unavailable');
    expect(classifyError(sys('ETIMEDOUT')).kind).toBe('timeout');
  });

  it('keeps a reset socket unavailable when the SDK has renamed it TimeoutError', () => {
    // What @smithy/node-http-handler rejects with when an HTTP/1.1 connection is reset.
    const reset = Object.assign(new Error('read ECONNRESET'), { code: 'ECONNRESET', name: 'TimeoutError' });
    const slow = Object.assign(new Error('read ETIMEDOUT'), { code: 'ETIMEDOUT', name: 'TimeoutError' });

    expect(classifyError(reset).kind).toBe('unavailable');
    expect(classifyError(slow).kind).toBe('timeout');
  });

  it('takes an HTTP/2 stream closed before any response for a lost connection, not a timeout', () => {
    // What @smithy/node-http-handler's HTTP/2 handler rejects with: TimeoutError once the session
    // is destroyed (socket reset, GOAWAY and close), plain Error for a stream the server cancelled.
    const lost = (name: string) =>
      Object.assign(new Error('Unexpected error: http2 request did not get a response'), { name });
    const idle = Object.assign(new Error('Stream timed out because of no activity for 5000 ms'), {
      name: 'TimeoutError',
    });

    expect(classifyError(lost('TimeoutError')).kind).toBe('unavailable');
    expect(classifyError(lost('Error')).kind).toBe('unavailable');
    expect(classifyError(idle).kind).toBe('timeout');
  });

  it('maps our own aborts to timeout, telling a shutdown apart', () => {
    const abort = Object.assign(new Error('The operation was aborted'), { name: 'AbortError' });

    expect(classifyError(abort).kind).toBe('timeout');
    expect(classifyError(abort, { aborted: 'timeout' }).message).toMatch(/timed out/);
    expect(classifyError(abort, { aborted: 'shutdown' }).originalName).toBe('Shutdown');
  });

  it('classifies bare HTTP statuses from unknown error names', () => {
    const http = (status: number) =>
      Object.assign(new Error('x'), { name: 'SomethingNew', $metadata: { httpStatusCode: status } });

    expect(classifyError(http(429)).kind).toBe('throttled');
    expect(classifyError(http(503)).kind).toBe('unavailable');
    expect(classifyError(http(504)).kind).toBe('unavailable');
    expect(classifyError(http(418)).kind).toBe('invalid_request');
  });

  it('turns unknown values into internal errors instead of crashing', () => {
    expect(classifyError('boom').kind).toBe('internal');
    expect(classifyError('boom').message).toBe('boom');
    expect(classifyError(null).kind).toBe('internal');
    expect(classifyError({ weird: true }).kind).toBe('internal');
    expect(classifyError(new TypeError('x is undefined')).kind).toBe('internal');
    expect(classifyError({ toString: [] }).message).toBe('unexpected error: [object Object]');
  });

  it('never throws, whatever is thrown at it', () => {
    fc.assert(
      fc.property(fc.anything(), (value) => {
        expect(classifyError(value).kind).toBeTypeOf('string');
      }),
      { numRuns: 500 },
    );
  });

  it('builds a content_filtered error that moves the chain on', () => {
    const e = contentFiltered('amazon.titan-text-express-v1');

    expect(e.kind).toBe('content_filtered');
    expect(e.retryable).toBe(false);
  });
});
