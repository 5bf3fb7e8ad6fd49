import { Writable } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { createLogger, reasonForLog, redactUrlCredentials } from './log.js';

function capture(options: Parameters<typeof createLogger>[0] = {}) {
  const lines: string[] = [];
  const destination = new Writable({
    write(chunk: Buffer, _enc, done) {
      lines.push(chunk.toString('utf8'));
      done();
    },
  });
  return { logger: createLogger({ ...options, destination }), text: () => lines.join('') };
}

describe('redactUrlCredentials', () => {
  it('masks the password of a URL and keeps the user, host and the rest of the text', () => {
    expect(redactUrlCredentials('cannot reach redis://app:s3cret@cache:6379/2 now')).toBe(
      'cannot reach redis://app:***@cache:6379/2 now',
    );
    expect(redactUrlCredentials('rediss://:only-pass@h:6380')).toBe('rediss://:***@h:6380');
  });

  it('masks a password holding an unescaped @ whole, and leaves URLs without one alone', () => {
    expect(redactUrlCredentials('redis://u:p@ss@host:6379')).toBe('redis://u:***@host:6379');
    expect(redactUrlCredentials('redis://127.0.0.1:6379 and http://a/b@c')).toBe(
      'redis://127.0.0.1:6379 and http://a/b@c',
    );
  });
});

describe('reasonForLog', () => {
  it('masks values Bedrock quotes from the request', () => {
    const converse = reasonForLog(
      "m refused the request: 1 validation error detected: Value 'Dear Dr. Kim, the biopsy' at 'inferenceConfig.stopSequences.1.member' failed to satisfy constraint",
    );
    const native = reasonForLog(
      'm refused the request: Malformed input request: #/anthropic_version: Dear Dr. Kim is not a valid enum value, please reformat',
    );

    expect(converse).not.toContain('Dr. Kim');
    expect(converse).toContain("at '[redacted]' failed to satisfy constraint");
    expect(native).not.toContain('Dr. Kim');
    expect(native).toContain('#/anthropic_version: [redacted] is not a valid enum value');
  });

  it("keeps apostrophes inside words and cuts long reasons, pointing at the job's result", () => {
    const long = reasonForLog(`the model's answer: ${'x'.repeat(500)}`);

    expect(long.startsWith("the model's answer: xxx")).toBe(true);
    expect(long).toMatch(/… \(\d+ more characters in the job's result\)$/);
    expect(long.length).toBeLessThan(260);
  });
});

describe('createLogger', () => {
  it('never writes a token, a password or AWS credentials, and masks URL passwords in fields, messages and errors', () => {
    const { logger, text } = capture();

    logger.info(
      {
        headers: { authorization: 'Bearer tok-123' },
        apiToken: 'tok-123',
        redis: { password: 'pw-456' },
        redisUrl: 'redis://u:pw-456@h:6379',
        credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'sk-789' },
      },
      'connecting to redis://u:pw-456@h:6379',
    );
    logger.error({ err: new Error('lost redis://u:pw-456@h:6379') }, 'failed');

    expect(text()).not.toMatch(/tok-123|pw-456|AKIAEXAMPLE|sk-789/);
    expect(text()).toContain('redis://u:***@h:6379');
  });

  it('drops the arguments of a failed Redis command, which may be AUTH user password', () => {
    const { logger, text } = capture();
    const err = Object.assign(new Error('WRONGPASS invalid username-password pair'), {
      command: { name: 'auth', args: ['app', 'pw-456'] },
    });

    logger.error({ err }, 'redis connection error');

    expect(text()).not.toContain('pw-456');
    expect(text()).toContain('WRONGPASS');
  });

  it('keeps prompt text and whole reasons only with logPrompts at trace level', () => {
    const quiet = capture({ level: 'trace' });
    const loud = capture({ level: 'trace', logPrompts: true });
    const reason = `Value 'secret prompt' at 'x' ${'y'.repeat(300)}`;

    for (const { logger } of [quiet, loud])
      logger.trace({ messages: [{ content: 'secret prompt' }], reason }, 'call');

    expect(quiet.text()).not.toContain('secret prompt');
    expect(loud.text()).toContain('secret prompt');
    expect(loud.text()).toContain('y'.repeat(300));
  });
});
