/**
 * Prints the configuration reference of the README from the zod schema, so the documented
 * defaults are the defaults. `npx tsx scripts/config-table.ts`
 */
import { configTable } from '../src/config-doc.js';

process.stdout.write(`${configTable()}\n`);
