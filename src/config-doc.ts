import type { z } from 'zod';
import { ConfigSchema } from './config.js';

interface Row {
  path: string;
  type: string;
  defaultValue: string;
  description: string;
}

type AnySchema = z.ZodType & {
  description?: string;
  _zod: { def: Record<string, unknown> & { type: string } };
};

const ENV: Readonly<Record<string, string>> = {
  redisUrl: 'REDIS_URL',
  'redis.cluster': 'REDIS_CLUSTER',
  'redis.username': 'REDIS_USERNAME',
  'redis.password': 'REDIS_PASSWORD',
  region: 'AWS_REGION',
  endpoint: 'BEDROCK_ENDPOINT',
  apiToken: 'API_TOKEN',
  'api.tokens': 'API_TOKENS',
  logLevel: 'LOG_LEVEL',
  logPrompts: 'LOG_PROMPTS',
  'callbacks.secret': 'CALLBACK_SECRET',
};

function walk(
  schema: AnySchema,
  path: string,
  rows: Row[],
  inherited?: { defaultValue?: unknown; description?: string },
): void {
  const def = schema._zod.def;
  const description = schema.description ?? inherited?.description;
  if (def.type === 'default') {
    const value =
      typeof def.defaultValue === 'function' ? (def.defaultValue as () => unknown)() : def.defaultValue;
    walk(def.innerType as AnySchema, path, rows, {
      defaultValue: value,
      ...(description ? { description } : {}),
    });
    return;
  }
  if (def.type === 'optional' || def.type === 'prefault') {
    walk(def.innerType as AnySchema, path, rows, { ...inherited, ...(description ? { description } : {}) });
    return;
  }
  if (def.type === 'object' && path.split('.').length < 3 && !['chains', 'models'].includes(path)) {
    for (const [key, child] of Object.entries(def.shape as Record<string, AnySchema>))
      walk(child, path ? `${path}.${key}` : key, rows);
    return;
  }
  const type =
    def.type === 'enum'
      ? Object.keys(def.entries as object).join(' \\| ')
      : def.type === 'union'
        ? (def.options as AnySchema[]).map((o) => o._zod.def.type).join(' \\| ')
        : def.type;
  const shown = inherited?.defaultValue;
  rows.push({
    path,
    type,
    defaultValue: shown === undefined ? '—' : `\`${JSON.stringify(shown)}\``,
    description: (description ?? '').replace(/\|/g, '\\|'),
  });
}

/** The README's configuration table, generated from {@link ConfigSchema}. */
export function configTable(): string {
  const rows: Row[] = [];
  walk(ConfigSchema as unknown as AnySchema, '', rows);
  const lines = ['| setting | env | type | default | meaning |', '| --- | --- | --- | --- | --- |'];
  for (const r of rows)
    lines.push(
      `| \`${r.path}\` | ${ENV[r.path] ? `\`${ENV[r.path]}\`` : ''} | ${r.type} | ${r.defaultValue} | ${r.description} |`,
    );
  return lines.join('\n');
}
