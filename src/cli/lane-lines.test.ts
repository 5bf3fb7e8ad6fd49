import { describe, expect, it } from 'vitest';
import type { LaneTotals } from '../results/batch-state.js';
import { laneTable } from './demo.js';
import { describeLanes } from './status.js';

const lanes: LaneTotals = {
  online: { completed: 1, failed: 1, costUsd: 0.43 },
  offline: { completed: 216, failed: 0, costUsd: 0.4354, onlineCostUsd: 0.8708 },
};

describe('cost per lane on the terminal', () => {
  it('status says what each lane cost and what the offline part would have cost online', () => {
    expect(
      describeLanes(lanes, {
        lane: 'offline',
        deadline: '2026-12-01T06:00:00.000Z',
        planned: true,
        done: true,
        invocationJobs: [
          { part: 0, modelId: 'm', records: 216, status: 'Completed', offline: 216, online: 0 },
          {
            part: 1,
            modelId: 'n',
            records: 120,
            status: 'NotCreated',
            message: 'refused',
            offline: 0,
            online: 120,
          },
        ],
      }),
    ).toEqual([
      '  online:  1 completed, 1 failed, $0.4300',
      '  offline: 216 completed, $0.4354 (online would have cost $0.8708)',
      '  invocation job 0 m: 216 records, Completed; 216 back, 0 sent online',
      '  invocation job 1 n: 120 records, NotCreated (refused); 0 back, 120 sent online',
    ]);
  });

  it('status of a batch that never went offline says nothing of lanes', () => {
    expect(
      describeLanes(
        { ...lanes, offline: { completed: 0, failed: 0, costUsd: 0, onlineCostUsd: 0 } },
        undefined,
      ),
    ).toEqual([]);
  });

  it('the demo sets both lanes side by side with the saving', () => {
    const table = laneTable(lanes, 1);

    expect(table[2]).toMatch(/^ {2}online +2 +\$0\.4300 +\$0\.4300$/);
    expect(table[3]).toMatch(/^ {2}offline +216 +\$0\.4354 +\$0\.8708 +\(1 invocation job\)$/);
    expect(table[4]).toMatch(/^ {2}total +218 +\$0\.8654 +\$1\.3008 +\(saved \$0\.4354\)$/);
  });
});
