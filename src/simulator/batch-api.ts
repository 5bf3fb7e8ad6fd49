import { CreateJobBody, jobIdOf, ListJobsQuery } from './batch-input.js';
import type { Answer, BatchJobs } from './batch-jobs.js';
import { simError } from './control.js';
import { invalid, jsonBody } from './control-plane-input.js';
import type { AnyRequest } from './listener.js';

/** A control-plane operation: the IAM action it needs and how it answers. */
export interface BatchOperation {
  action: string;
  run(): Answer | Promise<Answer>;
}

const JOB_PATH = /^\/model-invocation-job\/([^/]+)(\/stop)?$/;

/** A `jobIdentifier` that is neither a job id nor a job ARN, refused as AWS request validation words it. */
function badIdentifier(identifier: string): Answer {
  return simError(
    'ValidationException',
    `1 validation error detected: Value '${identifier}' at 'jobIdentifier' failed to satisfy constraint: Member must satisfy regular expression pattern: ((arn:aws(-[^:]+)?:bedrock:[a-z0-9-]{1,20}:[0-9]{12}:model-invocation-job/)?[a-z0-9]{12})`,
  );
}

/**
 * The model invocation job operations of the control plane (`docs/bedrock-wire.md#batch-inference`):
 * `POST /model-invocation-job` (Create), `GET /model-invocation-job/{jobIdentifier}` (Get, by id
 * or URL-encoded ARN), `GET /model-invocation-jobs` (List) and
 * `POST /model-invocation-job/{jobIdentifier}/stop` (Stop).
 * @returns undefined for any other path
 * @throws URIError when the job identifier is not valid URL encoding
 */
export function batchOperation(
  req: AnyRequest,
  url: URL,
  region: string,
  jobs: BatchJobs,
): BatchOperation | undefined {
  const method = req.method ?? 'GET';
  const path = url.pathname;
  if (path === '/model-invocation-job' && method === 'POST')
    return {
      action: 'CreateModelInvocationJob',
      run: async () => {
        const body = await jsonBody(req);
        if (body === undefined)
          return simError('ValidationException', 'The request body is not a JSON object.');
        const parsed = CreateJobBody.safeParse(body);
        return parsed.success ? jobs.create(parsed.data, region) : invalid(parsed.error, body);
      },
    };
  if (path === '/model-invocation-jobs' && method === 'GET')
    return {
      action: 'ListModelInvocationJobs',
      run: () => {
        const query = Object.fromEntries(url.searchParams);
        const parsed = ListJobsQuery.safeParse(query);
        return parsed.success ? jobs.list(parsed.data) : invalid(parsed.error, query);
      },
    };
  const m = JOB_PATH.exec(path);
  if (!m) return undefined;
  const identifier = decodeURIComponent(m[1] ?? '');
  const valid = jobIdOf(identifier) !== undefined;
  if (m[2] && method === 'POST')
    return {
      action: 'StopModelInvocationJob',
      run: () => (valid ? jobs.stop(identifier) : badIdentifier(identifier)),
    };
  if (!m[2] && method === 'GET')
    return {
      action: 'GetModelInvocationJob',
      run: () => (valid ? jobs.get(identifier) : badIdentifier(identifier)),
    };
  return undefined;
}
