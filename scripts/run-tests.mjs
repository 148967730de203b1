// Runs every *.test.ts under packages/*/test and test/ with Node's test runner (TypeScript via tsx,
// workspace packages resolved to their sources). Extra arguments filter files by substring.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

const roots = [...readdirSync('packages').map((p) => join('packages', p, 'test')), 'test'];
const files = roots
  .flatMap((root) => {
    try {
      return readdirSync(root, { recursive: true }).map((f) => join(root, String(f)));
    } catch {
      return [];
    }
  })
  .filter((f) => f.endsWith('.test.ts') && !f.includes('node_modules'))
  .filter((f) => process.argv.slice(2).every((needle) => f.includes(needle)))
  .sort();
const result = spawnSync(
  process.execPath,
  ['--conditions=source', '--import', 'tsx', '--test', '--test-concurrency=2', ...files],
  { stdio: 'inherit' },
);
process.exit(result.status ?? 1);
