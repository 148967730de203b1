/**
 * Parser conformance (issue 13): every `.py` file of CPython 3.11's standard library and of its
 * test suite (Debian `libpython3.11-testsuite`, installed by scripts/setup-machine.sh) that
 * CPython itself parses must give no `syntax-error`. CPython decides which files are bad syntax
 * (one `ast.parse` process for all files, running while Cellflow parses). The files go through the same analysis as a cell's
 * code; `toPlainPython` is not applied, since they are plain Python.
 * Without the test suite the test is skipped, unless CELLFLOW_REQUIRE_PYTHON_TESTSUITE=1 (CI).
 */
import assert from 'node:assert/strict';
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, it } from 'node:test';
import { analyzePython } from '@cellflow/core';
import { PYTHON } from '../support/paths.js';

const STDLIB = '/usr/lib/python3.11';
const TESTSUITE_MARKER = `${STDLIB}/test/test_grammar.py`;

function missingHost(): string | undefined {
  if (!existsSync(PYTHON)) return `no ${PYTHON}`;
  if (!existsSync(TESTSUITE_MARKER))
    return `no CPython test suite at ${STDLIB}/test (Debian package libpython3.11-testsuite)`;
  return undefined;
}

const missing = missingHost();
if (missing !== undefined && process.env.CELLFLOW_REQUIRE_PYTHON_TESTSUITE === '1')
  throw new Error(missing);

/** The `.py` files under the standard library that CPython's own parser rejects, one a line. */
const CPYTHON_REJECTS = `
import ast, os, sys
for root, dirs, names in os.walk(sys.argv[1]):
    for name in names:
        if name.endswith('.py'):
            path = os.path.join(root, name)
            try:
                with open(path, 'rb') as f:
                    ast.parse(f.read())
            except (SyntaxError, ValueError):
                print(path)
`;

/** Shown on failure: enough to start fixing, not the whole list. */
const SHOWN = 20;

describe(
  'Python parser conformance: CPython 3.11 standard library and test suite',
  {
    skip: missing,
  },
  () => {
    it('valid Python files give no syntax-error', async () => {
      const started = Date.now();
      const cpu = process.cpuUsage();
      // CPython judges the files while Cellflow parses them (two cores).
      const cpython = promisify(execFile)(PYTHON, ['-c', CPYTHON_REJECTS, STDLIB], {
        encoding: 'utf8',
      });
      const files = readdirSync(STDLIB, { recursive: true, encoding: 'utf8' })
        .filter((f) => f.endsWith('.py'))
        .sort()
        .map((f) => join(STDLIB, f));
      const errors = new Map<string, string>();
      for (const file of files) {
        const [error] = analyzePython(readFileSync(file, 'utf8')).syntaxErrors;
        if (error !== undefined) errors.set(file, `${file}:${error.line}: ${error.text.trim()}`);
      }
      const parsed = Date.now();
      const parseCpu = Math.round(process.cpuUsage(cpu).user / 1000);
      const cpythonRejects = new Set((await cpython).stdout.split('\n').filter((l) => l !== ''));
      const checked = files.filter((f) => !cpythonRejects.has(f));
      const offending = checked.flatMap((f) => errors.get(f) ?? []);
      console.log(
        `${checked.length} files checked, ${cpythonRejects.size} that CPython rejects left out; ` +
          `Cellflow parsed all ${files.length} in ${parsed - started} ms (${parseCpu} ms CPU), ` +
          `CPython was done after ${Date.now() - started} ms`,
      );
      assert.ok(checked.length > 1500, `only ${checked.length} files found under ${STDLIB}`);
      assert.deepEqual(
        offending.slice(0, SHOWN),
        [],
        `${offending.length} of ${checked.length} valid files give a syntax-error; the first ones:\n` +
          offending.slice(0, SHOWN).join('\n'),
      );
    });
  },
);
