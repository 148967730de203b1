/**
 * Runs inside VS Code's extension host (code-server): VS Code loads this module as the
 * `extensionTestsPath` and awaits `run()`. Results go to the console and to
 * `$CELLFLOW_TEST_RESULTS` (JSON) for the Node test that started the host.
 */
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import Mocha from 'mocha';

export interface SuiteResults {
  passed: string[];
  failed: { title: string; error: string }[];
  measurements: Record<string, number>;
}

export const results: SuiteResults = { passed: [], failed: [], measurements: {} };

export function run(): Promise<void> {
  // No retries: a test that fails once is a failure to fix, not to absorb.
  const mocha = new Mocha({ ui: 'tdd', timeout: 240_000, color: false });
  const only = process.env.CELLFLOW_TEST_GREP;
  if (only !== undefined && only !== '') mocha.grep(only);
  // CELLFLOW_TEST_SUITE picks the suite file: `extension` (default) or `untrusted`.
  mocha.addFile(join(__dirname, `${process.env.CELLFLOW_TEST_SUITE ?? 'extension'}.suite.js`));
  return new Promise((done, fail) => {
    const runner = mocha.run((failures) => {
      const file = process.env.CELLFLOW_TEST_RESULTS;
      if (file !== undefined) writeFileSync(file, JSON.stringify(results, null, 2));
      if (failures > 0) fail(new Error(`${failures} test(s) failed`));
      else done();
    });
    runner.on('pass', (t) => results.passed.push(t.fullTitle()));
    runner.on('fail', (t, err: Error) =>
      results.failed.push({ title: t.fullTitle(), error: err.stack ?? String(err) }),
    );
  });
}
