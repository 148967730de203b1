/** A large, realistic tagged notebook: `steps` steps of `cellsPerStep` cells each. */
export function syntheticNotebook(steps: number, cellsPerStep: number, variant = 0): string {
  const cells: unknown[] = [];
  // `variant` makes every cell's text new, so no cached parse can be reused: the step cells end in
  // `# variant N`, the others (variant 0 leaves them as they are) in `# round N`.
  const round = variant === 0 ? '' : `\n# round ${variant}`;
  const code = (source: string, tags: string[] = []): unknown => ({
    cell_type: 'code',
    execution_count: null,
    metadata: { tags },
    outputs: [],
    source,
  });
  cells.push(
    code(
      `import math\nimport json\nimport statistics\nfrom collections import defaultdict${round}`,
      ['imports'],
    ),
  );
  cells.push(
    code(
      `def normalise(values, scale=1.0):\n    top = max(values) or 1\n    return [v / top * scale for v in values]\n${round}`,
      ['functions'],
    ),
  );
  cells.push(code(`SEED = 7\nRATE = 0.25\nLABEL = "run"${round}`, ['pipeline-parameters']));
  for (let s = 0; s < steps; s++) {
    const prev = s > 0 ? `data_${s - 1}` : `[float(i) for i in range(50)]`;
    const other = s > 3 ? `stats_${s - 3}["mean"]` : 'RATE';
    const body = [
      `data_${s} = normalise(${prev}, scale=${other} + ${s % 5})\nweights_${s} = {i: w for i, w in enumerate(data_${s}) if w > RATE}`,
      `class Acc${s}:\n    def __init__(self):\n        self.total = 0\n    def add(self, v):\n        self.total += v\n        return self\nacc_${s} = Acc${s}()\nfor v in data_${s}:\n    acc_${s}.add(v)`,
      `try:\n    ratio_${s} = acc_${s}.total / len(weights_${s})\nexcept ZeroDivisionError:\n    ratio_${s} = 0.0\nbuckets_${s} = defaultdict(list)\nfor k, v in weights_${s}.items():\n    buckets_${s}[round(v, 1)].append(k)`,
      `stats_${s} = {"mean": statistics.mean(data_${s}), "ratio": ratio_${s}, "n": len(buckets_${s})}\nsummary_${s} = json.dumps(stats_${s}, sort_keys=True)\nlabel_${s} = f"{LABEL}-{SEED}-{math.floor(stats_${s}['mean'] * 100)}"`,
      `checks_${s} = [x for x in (stats_${s}["mean"], ratio_${s}) if x == x]\nassert len(checks_${s}) >= 1, summary_${s}`,
    ];
    for (let c = 0; c < cellsPerStep; c++) {
      const text = `${body[c % body.length]!}\n# variant ${variant}`;
      cells.push(code(text, c === 0 ? [`step:step_${s}`] : []));
    }
  }
  cells.push(code(`print(ratio_${steps - 1})${round}`, ['pipeline-metrics']));
  return JSON.stringify({ nbformat: 4, nbformat_minor: 5, metadata: {}, cells });
}
