import { z } from 'zod';
import type { AdminApi } from './behaviour.js';
import { FaultRuleSchema } from './faults.js';
import type { AnyRequest, AnyResponse } from './listener.js';
import { ModelOverrideSchema } from './profiles.js';
import { newReply, readBody, sendJson } from './wire.js';

const FaultBody = z.union([FaultRuleSchema, z.array(FaultRuleSchema)]);

function problem(error: z.ZodError): string {
  const issue = error.issues[0];
  return `${issue?.path.join('.') || '(body)'}: ${issue?.message ?? 'invalid'}`;
}

async function json(req: AnyRequest): Promise<unknown> {
  const body = await readBody(req, 1_000_000);
  if (body === 'too_large' || body.length === 0) return undefined;
  return JSON.parse(body.toString('utf8'));
}

/**
 * The simulator's own control endpoints under `/_sim/`; Bedrock paths never reach them.
 *
 * GET /_sim/health · GET /_sim/stats[?reset=1] · GET|POST|DELETE /_sim/faults ·
 * DELETE /_sim/faults/:id · POST /_sim/models/:id · POST /_sim/reset
 */
export function createAdminHandler(admin: AdminApi): (req: AnyRequest, res: AnyResponse) => Promise<void> {
  return async (req, res) => {
    const reply = newReply(res);
    const url = new URL(req.url ?? '/', 'http://sim');
    const path = url.pathname;
    const method = req.method ?? 'GET';
    try {
      if (path === '/_sim/health') return sendJson(reply, 200, { ok: true });
      if (path === '/_sim/stats' && method === 'GET') {
        const snapshot = admin.stats();
        if (url.searchParams.get('reset') === '1') admin.reset();
        return sendJson(reply, 200, snapshot);
      }
      if (path === '/_sim/reset' && method === 'POST') {
        admin.reset();
        return sendJson(reply, 200, { ok: true });
      }
      if (path === '/_sim/faults' && method === 'GET')
        return sendJson(reply, 200, { faults: admin.faults() });
      if (path === '/_sim/faults' && method === 'DELETE') {
        admin.clearFaults();
        return sendJson(reply, 200, { ok: true });
      }
      if (path === '/_sim/faults' && method === 'POST') {
        const parsed = FaultBody.safeParse(await json(req));
        if (!parsed.success) return sendJson(reply, 400, { error: problem(parsed.error) });
        const rules = Array.isArray(parsed.data) ? parsed.data : [parsed.data];
        return sendJson(reply, 201, { ids: rules.map((r) => admin.addFault(r)) });
      }
      const fault = /^\/_sim\/faults\/([^/]+)$/.exec(path);
      if (fault && method === 'DELETE') {
        const removed = admin.removeFault(decodeURIComponent(fault[1]!));
        return sendJson(
          reply,
          removed ? 200 : 404,
          removed ? { ok: true } : { error: `no fault with id ${fault[1]}` },
        );
      }
      const model = /^\/_sim\/models\/([^/]+)$/.exec(path);
      if (model && method === 'POST') {
        const parsed = ModelOverrideSchema.safeParse(await json(req));
        if (!parsed.success) return sendJson(reply, 400, { error: problem(parsed.error) });
        admin.setModel(decodeURIComponent(model[1]!), parsed.data);
        return sendJson(reply, 200, { ok: true });
      }
      return sendJson(reply, 404, { error: `no admin route ${method} ${path}` });
    } catch (e) {
      return sendJson(reply, 400, {
        error: e instanceof SyntaxError ? `body is not JSON: ${e.message}` : String(e),
      });
    }
  };
}
