import { describe, expect, it } from 'vitest';
import {
  clientRequestToken,
  invocationJobName,
  jobIdOf,
  outputKeys,
  partKeys,
  recordId,
  recordIndex,
} from './names.js';

describe('offline lane names', () => {
  it('numbers records with 11-character alphanumeric ids and reads them back', () => {
    expect(recordId(42)).toBe('R0000000042');
    expect(recordIndex(recordId(49_999))).toBe(49_999);
    expect(recordIndex('R42')).toBeUndefined();
    expect(recordIndex('something-else')).toBeUndefined();
  });

  it('names the same job and token for the same batch, model and part, and others for any other', () => {
    const token = clientRequestToken('contracts 2026 – 东京', 'anthropic.claude-3-haiku-20240307-v1:0', 0);

    expect(clientRequestToken('contracts 2026 – 东京', 'anthropic.claude-3-haiku-20240307-v1:0', 0)).toBe(
      token,
    );
    expect(clientRequestToken('contracts 2026 – 东京', 'anthropic.claude-3-haiku-20240307-v1:0', 1)).not.toBe(
      token,
    );
    expect(clientRequestToken('other', 'anthropic.claude-3-haiku-20240307-v1:0', 0)).not.toBe(token);
    expect(token).toMatch(/^[a-zA-Z0-9]{1,256}$/);
    const name = invocationJobName('contracts 2026 – 东京', 3);
    expect(name).toMatch(/^[a-zA-Z0-9]{1,63}(-*[a-zA-Z0-9+\-.]){0,63}$/);
    expect(name.length).toBeLessThanOrEqual(63);
  });

  it('keeps files of batches whose readable ids collide apart', () => {
    const a = partKeys('bj/', 'a b', 0);
    const b = partKeys('bj/', 'a_b', 0);

    expect(a.inputKey).toMatch(/^bj\/a_b-[0-9a-f]{12}\/p0\/records\.jsonl$/);
    expect(a.inputKey).not.toBe(b.inputKey);
  });

  it('finds the output where Bedrock writes it: <output>/<job id>/<input name>.out', () => {
    const keys = partKeys('bj/', 'b1', 2);
    const arn = 'arn:aws:bedrock:us-east-1:123456789012:model-invocation-job/abc123xyz';

    expect(jobIdOf(arn)).toBe('abc123xyz');
    expect(outputKeys(keys, arn)).toEqual({
      records: `${keys.outputPrefix}abc123xyz/records.jsonl.out`,
      manifest: `${keys.outputPrefix}abc123xyz/manifest.json.out`,
    });
  });
});
