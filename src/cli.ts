import { Command, CommanderError } from 'commander';
import { register as api } from './cli/api.js';
import { register as configCommands } from './cli/config.js';
import { CliError, createContext } from './cli/context.js';
import { register as demo } from './cli/demo.js';
import { register as enqueue } from './cli/enqueue.js';
import { register as models } from './cli/models.js';
import { register as results } from './cli/results.js';
import { register as simulator } from './cli/simulator.js';
import { register as status } from './cli/status.js';
import { register as worker } from './cli/worker.js';
import { ConfigError } from './config-error.js';
import { redactUrlCredentials } from './log.js';
import { isJobValidationError } from './queue/validation.js';
import { RedisSetupError } from './redis/checks.js';
import { ProfileError } from './simulator/index.js';

// `bedrock-jobs models | head` closes stdout early: the reader has what it wanted, not an error.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') process.stderr.write(`bedrock-jobs: cannot write output: ${e.message}\n`);
  process.exit(e.code === 'EPIPE' ? 0 : 1);
});

const program = new Command('bedrock-jobs')
  .description('Resilient job-queue workers for Amazon Bedrock')
  .option('--config <file>', 'config file (YAML or JSON); also BEDROCK_JOBS_CONFIG')
  .option('--json', 'machine-readable output: one JSON document per line')
  .showHelpAfterError()
  .exitOverride();

const ctx = createContext(program);
// One line per command module: adding a command is one file and one line here.
for (const register of [simulator, worker, api, enqueue, status, results, models, configCommands, demo])
  register(program, ctx);

try {
  await program.parseAsync(process.argv);
} catch (e) {
  if (e instanceof CommanderError) process.exit(e.exitCode === 0 ? 0 : 2);
  const known =
    e instanceof ConfigError ||
    e instanceof CliError ||
    e instanceof ProfileError ||
    e instanceof RedisSetupError ||
    isJobValidationError(e);
  // An error may quote a URL with its password (a bad REDIS_URL): masked here too.
  const say = (text: string) => process.stderr.write(`${redactUrlCredentials(text)}\n`);
  say(`bedrock-jobs: ${e instanceof Error ? e.message : String(e)}`);
  if (!known && e instanceof Error && e.stack) say(e.stack);
  process.exit(e instanceof CliError ? e.exitCode : known ? 2 : 1);
}
