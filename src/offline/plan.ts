/**
 * How a batch's offline calls become model invocation jobs, with no I/O: calls are grouped
 * (one model and API per group, since an invocation job has one of each), and each group is
 * cut into parts within Bedrock's limits. A group too small for an invocation job runs online.
 */

/** One call that may go offline: its record's entry, its group and the size of its JSONL line. */
export interface PlanEntry {
  id: string;
  group: string;
  bytes: number;
  /**
   * Entries of one unit (the chunks of one document) go offline together or not at all: the
   * merge step needs every chunk back.
   */
  unit?: string;
}

/** Bedrock's limits for one group's invocation jobs. */
export interface GroupLimits {
  /** Fewest records of one job (a quota per model). */
  minRecords: number;
  maxRecords: number;
  /** Largest input file, bytes. */
  maxBytes: number;
}

/** One invocation job to be: a group's calls, in record order. */
export interface PlannedPart {
  group: string;
  ids: string[];
  bytes: number;
}

/** What the plan decided: the parts, and the calls that run online instead, with why. */
export interface Plan {
  parts: PlannedPart[];
  online: { id: string; reason: string }[];
}

/**
 * Groups the entries (in order of first appearance) and cuts each group into as few parts as
 * its limits allow, of even size, so no part falls below the minimum when the group is above it.
 * A line larger than a whole file runs online; so does every call of a group, or of a part,
 * with fewer records than the minimum.
 */
export function planParts(entries: readonly PlanEntry[], limitsOf: (group: string) => GroupLimits): Plan {
  const groups = new Map<string, PlanEntry[]>();
  const online: Plan['online'] = [];
  for (const e of entries) {
    if (e.bytes > limitsOf(e.group).maxBytes) {
      online.push({ id: e.id, reason: 'its record is larger than an input file may be' });
      continue;
    }
    const list = groups.get(e.group) ?? [];
    list.push(e);
    groups.set(e.group, list);
  }
  const parts: PlannedPart[] = [];
  for (const [group, list] of groups) {
    const limits = limitsOf(group);
    const tooFew = (n: number) => tooFewReason(limits, n);
    if (list.length < limits.minRecords) {
      for (const e of list) online.push({ id: e.id, reason: tooFew(list.length) });
      continue;
    }
    const totalBytes = list.reduce((n, e) => n + e.bytes, 0);
    const count = Math.max(
      Math.ceil(list.length / limits.maxRecords),
      Math.ceil(totalBytes / limits.maxBytes),
    );
    const target = Math.ceil(list.length / count);
    let current: PlannedPart = { group, ids: [], bytes: 0 };
    const cut = () => {
      if (current.ids.length > 0) parts.push(current);
      current = { group, ids: [], bytes: 0 };
    };
    for (const e of list) {
      if (current.ids.length >= target || current.bytes + e.bytes > limits.maxBytes) cut();
      current.ids.push(e.id);
      current.bytes += e.bytes;
    }
    cut();
    // Cutting on bytes can leave a short part; its calls run online rather than be refused.
    for (let i = parts.length - 1; i >= 0; i--) {
      const p = parts[i]!;
      if (p.group === group && p.ids.length < limits.minRecords) {
        for (const id of p.ids) online.push({ id, reason: tooFew(p.ids.length) });
        parts.splice(i, 1);
      }
    }
  }
  return keepUnitsWhole({ parts, online }, entries, limitsOf);
}

const tooFewReason = (limits: GroupLimits, n: number): string =>
  `fewer than ${limits.minRecords} records for one invocation job (${n})`;

/**
 * Takes every unit with an entry online out of the parts, so it runs online whole; a part left
 * below its minimum runs online too, which may take further units with it.
 */
function keepUnitsWhole(
  plan: Plan,
  entries: readonly PlanEntry[],
  limitsOf: (group: string) => GroupLimits,
): Plan {
  const unitOf = new Map<string, string>();
  for (const e of entries) if (e.unit !== undefined) unitOf.set(e.id, e.unit);
  if (unitOf.size === 0) return plan;
  const bytesOf = new Map(entries.map((e) => [e.id, e.bytes]));
  const { online } = plan;
  let parts = plan.parts;
  let seen = -1;
  while (seen !== online.length) {
    seen = online.length;
    const gone = new Set(online.map((o) => unitOf.get(o.id)).filter((u) => u !== undefined));
    const next: PlannedPart[] = [];
    for (const p of parts) {
      const keep = p.ids.filter((id) => !gone.has(unitOf.get(id) ?? ''));
      for (const id of p.ids)
        if (gone.has(unitOf.get(id) ?? ''))
          online.push({ id, reason: 'another chunk of its document runs online' });
      const limits = limitsOf(p.group);
      if (keep.length < limits.minRecords) {
        for (const id of keep) online.push({ id, reason: tooFewReason(limits, keep.length) });
        continue;
      }
      next.push({ ...p, ids: keep, bytes: keep.reduce((n, id) => n + (bytesOf.get(id) ?? 0), 0) });
    }
    parts = next;
  }
  return { parts, online };
}
