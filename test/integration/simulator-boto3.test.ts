import { execFile, spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';
import { simError, startSimulator } from '../../src/simulator/index.js';
import { testControl } from './simulator-fixtures.js';

const SCRIPT = fileURLToPath(new URL('./boto3_smoke.py', import.meta.url));
const probe = spawnSync('python3', ['-c', 'import boto3'], { encoding: 'utf8' });
const hasBoto3 = probe.status === 0;

describe('boto3 against the simulator (HTTP/1.1)', () => {
  if (!hasBoto3) {
    it('needs python3 with boto3 installed to run boto3_smoke.py', () => {
      expect(probe.status).not.toBe(0);
    });
    return;
  }

  it('runs every operation and gets botocore exceptions for errors', async () => {
    const control = testControl({
      admit: (ctx) =>
        ctx.baseId.startsWith('mistral.')
          ? {
              ok: false,
              error: simError('ThrottlingException', 'Too many requests, please wait before trying again.'),
            }
          : { ok: true, reservation: { key: 'k', reservedTokens: 0 } },
      fault: (ctx) =>
        ctx.baseId === 'amazon.nova-micro-v1:0'
          ? {
              type: 'break_stream',
              afterChunks: 2,
              exception: simError('ModelStreamErrorException', 'The model stream was interrupted.', {
                originalStatusCode: 500,
                originalMessage: 'boom',
              }),
            }
          : { type: 'none' },
    });
    const sim = await startSimulator({ control });
    try {
      const { stdout } = await promisify(execFile)('python3', [SCRIPT, sim.url], { timeout: 60_000 });
      const out = JSON.parse(stdout);

      expect(out.invoke).toMatchObject({
        type: 'message',
        requestId: expect.stringMatching(/^[0-9a-f-]{36}$/),
      });
      expect(out.invoke.headerInputTokens).toBe(out.invoke.inputTokens);
      expect(out.stream.first).toBe('message_start');
      expect(out.stream.metrics.inputTokenCount).toBe(out.invoke.inputTokens);
      expect(out.converse.stopReason).toBe('end_turn');
      expect(out.converseStream[0]).toBe('messageStart');
      expect(out.converseStream.at(-1)).toBe('metadata');
      expect(out.countTokens.counted).toBe(out.countTokens.invoked);
      expect(out.noCounting).toBe("The provided model doesn't support counting tokens.");
      expect(out.inStream).toEqual({
        status: 200,
        code: 'validationException',
        message:
          'messages: roles must alternate between "user" and "assistant", but found multiple "user" roles in a row',
      });
      expect(out.validation.status).toBe(400);
      expect(out.validation.message).toContain('required key [inputText] not found');
      expect(out.unknownModel).toEqual({ message: 'The provided model identifier is invalid.', status: 400 });
      expect(out.throttled).toBe(429);
      expect(out.broken).toEqual({ code: 'modelStreamErrorException', chunks: 2 });
    } finally {
      await sim.close();
    }
  });
});
