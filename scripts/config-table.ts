/**
 * Prints the configuration reference of the README from the zod schema, so the documented
 * defaults are the defaults: `npx tsx scripts/config-table.ts`; with `--write`, replaces the
 * table in README.md instead.
 */
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { configTable } from '../src/config-doc.js';

const table = configTable();
if (process.argv.includes('--write')) {
  const file = join(import.meta.dirname, '..', 'README.md');
  const readme = readFileSync(file, 'utf8');
  const block = /(<!-- config-table:start -->\n)[\s\S]*?(\n<!-- config-table:end -->)/;
  if (!block.test(readme)) throw new Error('README.md lacks the <!-- config-table:start/end --> markers');
  writeFileSync(
    file,
    readme.replace(block, (_m, open: string, close: string) => `${open}${table}${close}`),
  );
} else {
  process.stdout.write(`${table}\n`);
}
