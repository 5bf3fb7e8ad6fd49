import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Service {
  image?: string;
  build?: unknown;
  command?: string[];
  container_name?: string;
  ports?: unknown[];
  environment?: Record<string, string>;
  volumes?: string[];
  healthcheck?: { test?: string[] };
}

const root = join(import.meta.dirname, '..', '..');
// `merge: true` reads `<<: *app` as compose does.
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8'), { merge: true }) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('runs Redis with AOF on a volume, the simulator and scalable workers pointed at both', () => {
    const { redis, simulator, worker } = compose.services;

    expect(redis?.command).toEqual(expect.arrayContaining(['--appendonly', 'yes']));
    expect(redis?.volumes?.some((v) => v.endsWith(':/data'))).toBe(true);
    expect(redis?.healthcheck?.test).toContain('ping');
    expect(simulator?.command?.slice(0, 1)).toEqual(['simulator']);
    expect(worker?.container_name).toBeUndefined();
    expect(worker?.ports).toBeUndefined();
    expect(worker?.environment).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      BEDROCK_ENDPOINT: 'http://simulator:4010',
    });
  });

  it('serves the API on 8080 with a /healthz check that needs no curl', () => {
    const { api } = compose.services;

    expect(api?.command).toEqual(expect.arrayContaining(['api', '--port', '8080']));
    expect(api?.healthcheck?.test?.join(' ')).toMatch(
      /node -e .*fetch\('http:\/\/127\.0\.0\.1:8080\/healthz'\)/,
    );
  });

  it('builds one image for the simulator, workers and API', () => {
    const { simulator, worker, api } = compose.services;

    expect(worker?.build).toBeDefined();
    expect(worker?.image).toMatch(/\S/);
    expect(new Set([simulator?.image, worker?.image, api?.image])).toEqual(new Set([worker?.image]));
  });

  it('only runs commands the CLI has', () => {
    const cli = readFileSync(join(root, 'src', 'cli.ts'), 'utf8');
    for (const s of Object.values(compose.services)) {
      if (s.command && s.command[0] !== 'redis-server') expect(cli).toContain(`register as ${s.command[0]}`);
    }
  });
});
