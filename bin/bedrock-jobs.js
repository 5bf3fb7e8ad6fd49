#!/usr/bin/env node
// Which code runs: in a checkout (src/ is there and tsx is installed) the TypeScript source
// through tsx, so the command always matches the code and a dist/ left by `npm pack` can never
// go stale; the installed package and the Docker image have no src/ and run the build in dist/.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'src', 'cli.ts');
const built = join(root, 'dist', 'cli.js');

/** tsx's loader, or undefined where it is not installed (`npm ci --omit=dev`). */
async function loadTsx() {
  try {
    return await import('tsx/esm/api');
  } catch (err) {
    if (err?.code === 'ERR_MODULE_NOT_FOUND') return undefined;
    throw err;
  }
}

const tsx = existsSync(source) ? await loadTsx() : undefined;
if (tsx) {
  tsx.register();
  await import(pathToFileURL(source).href);
} else if (existsSync(built)) {
  await import(pathToFileURL(built).href);
} else {
  process.stderr.write(`bedrock-jobs: ${built} is missing; run \`npm run build\` (or \`npm ci\` for tsx)\n`);
  process.exitCode = 1;
}
