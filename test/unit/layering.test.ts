import { readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';

const src = join(import.meta.dirname, '..', '..', 'src');

/** Every shipped module under `src/` (tests excluded), as paths relative to `src/`. */
function modules(dir = src): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((entry) => {
    const path = join(dir, entry.name);
    if (entry.isDirectory()) return modules(path);
    return entry.name.endsWith('.ts') && !entry.name.endsWith('.test.ts') ? [relative(src, path)] : [];
  });
}

/** Relative imports and re-exports of a module, type-only ones included, resolved to paths under `src/`. */
function importsOf(file: string): string[] {
  const text = readFileSync(join(src, file), 'utf8');
  const specifiers = [...text.matchAll(/(?:^|\n)\s*(?:import|export)\s[^'";]*?from\s+'(\.[^']+)'/g)].map(
    (m) => m[1]!,
  );
  return specifiers.map((s) => relative(src, resolve(src, dirname(file), s)).replace(/\.js$/, '.ts'));
}

/** The layer a module belongs to: its top-level folder under `src/`, or the file itself at the top. */
function layerOf(file: string): string {
  const [first, ...rest] = file.split('/');
  return rest.length > 0 ? `${first}/` : first!;
}

describe('layering of src/', () => {
  const files = modules();
  /** `from → to → files of from that import to`. */
  const edges = new Map<string, Map<string, string[]>>();
  for (const file of files) {
    for (const target of importsOf(file)) {
      const from = layerOf(file);
      const to = layerOf(target);
      if (from === to) continue;
      const out = edges.get(from) ?? new Map<string, string[]>();
      out.set(to, [...(out.get(to) ?? []), `${file} → ${target}`]);
      edges.set(from, out);
    }
  }

  it('reads a graph of the whole tree', () => {
    expect(files.length).toBeGreaterThan(50);
    expect(edges.get('queue/')?.has('resilience/')).toBe(true);
  });

  it('has no folder that imports from a folder importing it back', () => {
    const cycles: string[] = [];
    for (const [from, out] of edges) {
      for (const [to, imports] of out) {
        const back = edges.get(to)?.get(from);
        if (back && from < to) cycles.push(`${from} ⇄ ${to}: ${[...imports, ...back].join(', ')}`);
      }
    }

    expect(cycles).toEqual([]);
  });

  it('has no longer cycle between folders either', () => {
    const cycles: string[] = [];
    const visit = (layer: string, path: string[]): void => {
      for (const next of edges.get(layer)?.keys() ?? []) {
        if (next === path[0]) cycles.push([...path, next].join(' → '));
        else if (!path.includes(next) && next > path[0]!) visit(next, [...path, next]);
      }
    };
    for (const layer of edges.keys()) visit(layer, [layer]);

    expect(cycles).toEqual([]);
  });
});
