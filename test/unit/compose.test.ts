import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';

interface Service {
  command?: string[];
  container_name?: string;
  ports?: unknown[];
  environment?: Record<string, string>;
}

const root = join(import.meta.dirname, '..', '..');
const compose = parse(readFileSync(join(root, 'docker-compose.yml'), 'utf8')) as {
  services: Record<string, Service>;
};

describe('docker-compose.yml', () => {
  it('runs Redis with AOF, the simulator and scalable workers pointed at both', () => {
    const { redis, simulator, worker } = compose.services;

    expect(redis?.command).toContain('--appendonly');
    expect(simulator?.command?.[0]).toBe('simulator');
    expect(worker?.container_name).toBeUndefined();
    expect(worker?.ports).toBeUndefined();
    expect(worker?.environment).toMatchObject({
      REDIS_URL: 'redis://redis:6379',
      BEDROCK_ENDPOINT: 'http://simulator:4010',
    });
  });

  it('only runs commands the CLI has', () => {
    const cli = readFileSync(join(root, 'src', 'cli.ts'), 'utf8');
    for (const s of Object.values(compose.services)) {
      if (s.command && s.command[0] !== 'redis-server') expect(cli).toContain(`register as ${s.command[0]}`);
    }
  });
});
