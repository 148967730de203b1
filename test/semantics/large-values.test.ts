/**
 * Large values between steps, through the step runtime's own save_value / load_value in separate
 * Python processes: a loaded array is memory-mapped copy-on-write (an ordinary, writable ndarray
 * whose writes never reach the saved file); one passed on unchanged is hard-linked, a changed one
 * written again; a view of a loaded array stays a view when saved with it; pandas frames keep every
 * column kind, and frames saved by earlier versions (to_pickle) still load.
 */
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { RUNTIME_SOURCE } from '@cellflow/core';

const dir = mkdtempSync(join(tmpdir(), 'cellflow-large-values-'));
after(() => rmSync(dir, { recursive: true, force: true }));
const runtime = join(dir, 'runtime.py');
writeFileSync(runtime, RUNTIME_SOURCE);

/** Runs `body` as a step would, with the runtime as `rt`; returns what it prints, as JSON. */
function step(body: string): any {
  const script = `import json, os, sys, types\nimport numpy, pandas\nrt = types.ModuleType("__cellflow__")\nexec(open(sys.argv[1]).read(), rt.__dict__)\nsys.modules["__cellflow__"] = rt\nd = sys.argv[2]\n${body}`;
  return JSON.parse(
    execFileSync('/usr/bin/python3', ['-c', script, runtime, dir], { encoding: 'utf8' }),
  );
}

describe('large values between steps', () => {
  it('loads arrays mapped copy-on-write, links them on unchanged, writes them when changed', () => {
    step(`rt.save_value("X", numpy.arange(500_000, dtype=float), d + "/x")\nprint("{}")`);
    const loaded = step(`
X = rt.load_value(d + "/x")
facts = {"type": type(X).__name__, "writeable": X.flags.writeable, "sum": float(X.sum())}
rt.save_value("X", X, d + "/passed")
X[7] = -1.0
rt.save_value("X", X, d + "/changed")
facts["file"] = float(numpy.load(d + "/x/value.npy")[7])
print(json.dumps(facts))`);
    assert.deepEqual(loaded, {
      type: 'ndarray',
      writeable: true,
      sum: (499_999 * 500_000) / 2,
      file: 7,
    });
    const inode = (p: string): number => statSync(join(dir, p, 'value.npy')).ino;
    assert.equal(inode('passed'), inode('x'), 'the unchanged array was written again');
    assert.notEqual(inode('changed'), inode('x'));
    assert.deepEqual(step(`print(json.dumps(float(rt.load_value(d + "/changed")[7])))`), -1);
  });

  it('a view of a loaded array saved with it is a view again in the next step', () => {
    const shared = step(`
X = rt.load_value(d + "/x")
rt.save_shared({"X": X, "V": X[10:20]}, {"X": d + "/sx", "V": d + "/sv"})
X2, V2 = rt.load_value(d + "/sx"), rt.load_value(d + "/sv")
V2[0] = 42.0
print(json.dumps([float(X2[10]), V2.base is not None]))`);
    assert.deepEqual(shared, [42, true]);
  });

  it('pandas frames keep every column kind; frames saved with to_pickle still load', () => {
    const frames = step(`
n = 300_000
df = pandas.DataFrame({"i": numpy.arange(n), "x": numpy.linspace(0, 1, n), "s": ["a", "b", "c"] * (n // 3),
                       "c": pandas.Categorical(["u", "v", "w"] * (n // 3)), "t": pandas.date_range("2020", periods=n, freq="s")})
rt.save_value("df", df, d + "/df")
back = rt.load_value(d + "/df")
back.loc[0, "x"] = 9.0
again = rt.load_value(d + "/df")
os.makedirs(d + "/old")
df.to_pickle(d + "/old/value.pkl")
json.dump({"format": "pandas", "type": "pandas.core.frame.DataFrame", "variable": "df"}, open(d + "/old/cellflow-value.json", "w"))
print(json.dumps([again.equals(df), list(map(str, again.dtypes)), rt.load_value(d + "/old").equals(df)]))`);
    assert.deepEqual(frames, [
      true,
      ['int64', 'float64', 'object', 'category', 'datetime64[ns]'],
      true,
    ]);
  });
});
