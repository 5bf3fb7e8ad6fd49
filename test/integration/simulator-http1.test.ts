import { execFile } from 'node:child_process';
import { once } from 'node:events';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { InvokeModelCommand } from '@aws-sdk/client-bedrock-runtime';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decodeStream } from '../../src/simulator/eventstream.js';
import { type RunningSimulator, startSimulator } from '../../src/simulator/index.js';
import { sendJson } from '../../src/simulator/wire.js';
import { sdkClient, type TestControl, testControl } from './simulator-fixtures.js';

const HAIKU = 'anthropic.claude-3-haiku-20240307-v1:0';
const BODY = JSON.stringify({
  anthropic_version: 'bedrock-2023-05-31',
  max_tokens: 100,
  messages: [{ role: 'user', content: 'Hello over HTTP/1.1' }],
});
const AUTH = 'AWS4-HMAC-SHA256 Credential=AKIDTEST/20260101/us-east-1/bedrock/aws4_request, Signature=00';

let sim: RunningSimulator;
let control: TestControl;
const adminCalls: string[] = [];

beforeAll(async () => {
  control = testControl();
  sim = await startSimulator({
    control,
    adminHandler: (req, res) => {
      adminCalls.push(`${req.method} ${req.url}`);
      sendJson({ requestId: 'admin', res }, 200, { ok: true });
    },
  });
});

afterAll(async () => {
  await sim.close();
});

const post = (path: string, body: string, headers: Record<string, string> = { authorization: AUTH }) =>
  fetch(`${sim.url}${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...headers },
    body,
  });

describe('HTTP/1.1 clients on the same port', () => {
  it('answers InvokeModel to fetch with Bedrock headers, the model id with a raw colon', async () => {
    const res = await post(`/model/${HAIKU}/invoke`, BODY);
    const body = (await res.json()) as {
      type: string;
      usage: { input_tokens: number; output_tokens: number };
    };

    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(res.headers.get('date')).toBeTruthy();
    expect(Number(res.headers.get('x-amzn-bedrock-input-token-count'))).toBe(body.usage.input_tokens);
    expect(Number(res.headers.get('x-amzn-bedrock-output-token-count'))).toBe(body.usage.output_tokens);
    expect(body.type).toBe('message');
  });

  it('answers an error with the exact Bedrock wire form', async () => {
    const res = await post(`/model/${encodeURIComponent('amazon.titan-text-express-v1')}/invoke`, BODY);

    expect(res.status).toBe(400);
    expect(res.headers.get('x-amzn-errortype')).toBe(
      'ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/',
    );
    expect(res.headers.get('content-type')).toBe('application/json');
    expect(res.headers.get('x-amzn-requestid')).toMatch(/^[0-9a-f-]{36}$/);
    expect(await res.json()).toEqual({
      message:
        'Malformed input request: #: required key [inputText] not found, please reformat your input and try again.',
    });
  });

  it('refuses a request without Authorization as Bedrock does', async () => {
    const res = await post(`/model/${HAIKU}/invoke`, BODY, {});

    expect(res.status).toBe(403);
    expect(res.headers.get('x-amzn-errortype')).toBe('MissingAuthenticationTokenException');
    expect(await res.json()).toEqual({ message: 'Missing Authentication Token' });
  });

  it('streams event-stream frames with padded base64 chunks over HTTP/1.1', async () => {
    const res = await post(`/model/${encodeURIComponent(HAIKU)}/invoke-with-response-stream`, BODY);
    const frames = decodeStream(new Uint8Array(await res.arrayBuffer()));

    expect(res.headers.get('content-type')).toBe('application/vnd.amazon.eventstream');
    expect(res.headers.get('x-amzn-bedrock-content-type')).toBe('application/json');
    expect(frames.length).toBeGreaterThan(3);
    for (const frame of frames) {
      expect(frame.headers).toEqual({
        ':event-type': 'chunk',
        ':content-type': 'application/json',
        ':message-type': 'event',
      });
      expect(frame.body).toEqual({ bytes: expect.any(String), p: expect.stringMatching(/^[a-zA-Z0-9]+$/) });
    }
    const first = JSON.parse(
      Buffer.from((frames[0]!.body as { bytes: string }).bytes, 'base64').toString('utf8'),
    );
    expect(first.type).toBe('message_start');
  });

  it('reads a large body that arrives in many TCP segments', async () => {
    const document = 'Workers take jobs from the queue and write results back. '.repeat(10_000);
    const big = JSON.stringify({
      anthropic_version: 'bedrock-2023-05-31',
      max_tokens: 200,
      messages: [{ role: 'user', content: `Summarize.\n\n<document>\n${document}\n</document>` }],
    });

    const res = await post(`/model/${HAIKU}/invoke`, big);
    const body = (await res.json()) as { content: { text: string }[]; usage: { input_tokens: number } };

    expect(res.status).toBe(200);
    expect(body.content[0]?.text).toMatch(/^Workers take jobs from the queue and write results back\./);
    expect(body.usage.input_tokens).toBeGreaterThan(150_000);
  });

  /**
   * Sends one hand-written HTTP/1.1 request on a fresh socket and returns the raw answer.
   * @param firstBytes sent alone first, so the protocol sniffer may see a short first segment
   */
  async function raw(path: string, body: string, auth: boolean, firstBytes = 0): Promise<string> {
    const socket = connect(sim.port, '127.0.0.1');
    socket.setNoDelay(true);
    await once(socket, 'connect');
    const chunks: Buffer[] = [];
    socket.on('data', (c: Buffer) => chunks.push(c));
    const request =
      `POST ${path} HTTP/1.1\r\nHost: localhost\r\n${auth ? `Authorization: ${AUTH}\r\n` : ''}` +
      `Content-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`;
    if (firstBytes > 0) await new Promise((resolve) => socket.write(request.slice(0, firstBytes), resolve));
    socket.end(request.slice(firstBytes));
    await once(socket, 'close');
    return Buffer.concat(chunks).toString('utf8');
  }

  it('tells HTTP/1.1 from HTTP/2 when the first segment is a single byte', async () => {
    const text = await raw(`/model/${HAIKU}/invoke`, BODY, true, 1);

    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  });

  it('answers a hand-written HTTP/1.1 request on a raw socket', async () => {
    const text = await raw(`/model/${HAIKU}/invoke`, BODY, true);

    expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
    expect(text).toMatch(/\r\nx-amzn-RequestId: [0-9a-f-]{36}\r\n/);
    expect(text).toContain('"type":"message"');
  });

  it('answers errors to hand-written requests', async () => {
    const unsigned = await raw(`/model/${HAIKU}/invoke`, BODY, false);
    const unknown = await raw('/model/acme.nothing-v1%3A0/invoke', BODY, true);

    expect(unsigned).toMatch(/^HTTP\/1\.1 403 Forbidden\r\n/);
    expect(unsigned).toContain('\r\nx-amzn-ErrorType: MissingAuthenticationTokenException\r\n');
    expect(unknown).toMatch(/^HTTP\/1\.1 400 Bad Request\r\n/);
    expect(unknown).toContain(
      '\r\nx-amzn-ErrorType: ValidationException:http://internal.amazon.com/coral/com.amazon.bedrock/\r\n',
    );
    expect(unknown).toContain('{"message":"The provided model identifier is invalid."}');
  });

  it('serves the SDK over HTTP/2 and fetch over HTTP/1.1 on the same port at once', async () => {
    const client = sdkClient(sim.url);
    try {
      const [h2, h1] = await Promise.all([
        client.send(new InvokeModelCommand({ modelId: HAIKU, body: BODY })),
        post(`/model/${HAIKU}/invoke`, BODY).then((r) => r.json() as Promise<Record<string, unknown>>),
      ]);

      expect(JSON.parse(new TextDecoder().decode(h2.body))).toEqual({ ...h1, id: expect.any(String) });
    } finally {
      client.destroy();
    }
  });

  it('answers curl --http1.1', async () => {
    const { stdout } = await promisify(execFile)('curl', [
      '-s',
      '-i',
      '--http1.1',
      '-X',
      'POST',
      '-H',
      `Authorization: ${AUTH}`,
      '-H',
      'Content-Type: application/json',
      '--data-binary',
      BODY,
      `${sim.url}/model/${encodeURIComponent(HAIKU)}/invoke`,
    ]);

    expect(stdout).toMatch(/^HTTP\/1\.1 200 OK/);
    expect(stdout).toContain('"stop_reason":"end_turn"');
  });

  it('forwards /_sim/ paths to the admin handler and never Bedrock paths', async () => {
    const before = control.records.length;

    const admin = await fetch(`${sim.url}/_sim/stats`);
    await post(`/model/${HAIKU}/invoke`, BODY);

    expect(await admin.json()).toEqual({ ok: true });
    expect(adminCalls).toEqual(['GET /_sim/stats']);
    expect(control.records.length).toBe(before + 1);
  });

  it('answers 404 for /_sim/ without an admin handler and for unknown operations', async () => {
    const bare = await startSimulator({ control: testControl() });
    try {
      const admin = await fetch(`${bare.url}/_sim/stats`);
      const unknown = await post(`/model/${HAIKU}/explode`, BODY);

      expect(admin.status).toBe(404);
      expect(unknown.status).toBe(404);
      expect(unknown.headers.get('x-amzn-errortype')).toBe('UnknownOperationException');
    } finally {
      await bare.close();
    }
  });
});
