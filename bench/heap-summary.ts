/**
 * `npx tsx bench/heap-summary.ts <file.heapsnapshot>...`: what a heap snapshot
 * holds, by self size: the total, the largest groups (strings, compiled code,
 * arrays, then objects by constructor) and the largest single objects, each
 * with its first retainer. Reads the snapshots the large run's worker writes
 * with `npm run bench -- --only million --heap-snapshot=<seconds>`.
 */
import { readFileSync } from 'node:fs';

interface Snapshot {
  snapshot: { meta: { node_fields: string[]; node_types: [string[], ...unknown[]]; edge_fields: string[]; edge_types: [string[], ...unknown[]] } };
  nodes: number[];
  edges: number[];
  strings: string[];
}

const MB = 1e6;
const GROUPED = new Set(['string', 'concatenated string', 'sliced string', 'number', 'code', 'hidden', 'array']);

function summarize(file: string): void {
  const snap = JSON.parse(readFileSync(file, 'utf8')) as Snapshot;
  const { node_fields: nodeFields, node_types: nodeTypes, edge_fields: edgeFields, edge_types: edgeTypes } = snap.snapshot.meta;
  const width = nodeFields.length;
  const [typeAt, nameAt, sizeAt, edgeCountAt] = ['type', 'name', 'self_size', 'edge_count'].map((f) => nodeFields.indexOf(f));
  const [edgeTypeAt, edgeNameAt, edgeToAt] = ['type', 'name_or_index', 'to_node'].map((f) => edgeFields.indexOf(f));
  const { nodes, edges, strings } = snap;
  const groups = new Map<string, { size: number; count: number }>();
  const largest: number[] = [];
  let total = 0;
  for (let i = 0; i < nodes.length; i += width) {
    const type = nodeTypes[0][nodes[i + typeAt]];
    const size = nodes[i + sizeAt];
    total += size;
    const key = GROUPED.has(type) ? type : `${type}: ${strings[nodes[i + nameAt]].slice(0, 50)}`;
    const g = groups.get(key) ?? { size: 0, count: 0 };
    g.size += size;
    g.count++;
    groups.set(key, g);
    if (size > 500_000) largest.push(i);
  }
  // First retainer of each large object: the edge that points at it.
  const retainer = new Map<number, string>();
  const wanted = new Set(largest);
  for (let i = 0, e = 0; i < nodes.length; i += width) {
    for (let k = 0; k < nodes[i + edgeCountAt]; k++, e += edgeFields.length) {
      const to = edges[e + edgeToAt];
      if (!wanted.has(to) || retainer.has(to)) continue;
      const edgeType = edgeTypes[0][edges[e + edgeTypeAt]];
      const name = ['context', 'property', 'internal', 'shortcut'].includes(edgeType) ? strings[edges[e + edgeNameAt]] : String(edges[e + edgeNameAt]);
      retainer.set(to, `${edgeType} "${name}" of ${nodeTypes[0][nodes[i + typeAt]]} ${strings[nodes[i + nameAt]].slice(0, 40)}`);
    }
  }
  console.log(`${file}\n  live (self sizes): ${(total / MB).toFixed(1)} MB`);
  for (const [key, g] of [...groups.entries()].sort((a, b) => b[1].size - a[1].size).slice(0, 12)) {
    console.log(`  ${(g.size / MB).toFixed(2).padStart(7)} MB  ${String(g.count).padStart(7)}  ${key}`);
  }
  console.log('  largest objects:');
  for (const i of largest.sort((a, b) => nodes[b + sizeAt] - nodes[a + sizeAt]).slice(0, 8)) {
    const text = strings[nodes[i + nameAt]].slice(0, 60).replace(/\s+/g, ' ');
    console.log(
      `  ${(nodes[i + sizeAt] / MB).toFixed(2).padStart(7)} MB  ${nodeTypes[0][nodes[i + typeAt]]} ${JSON.stringify(text)}  <- ${retainer.get(i) ?? '?'}`,
    );
  }
}

for (const file of process.argv.slice(2)) summarize(file);
