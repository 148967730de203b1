/**
 * Every diagnostic Cellflow raises: its code, its severity and what it means, in one list. A
 * `Diagnostic`'s code is one of these (the type says so) and its severity is the code's; a test
 * checks that every code here is raised somewhere, and that docs/diagnostics.md lists exactly
 * these (`npm run diagnostics-doc` writes it).
 */

export type Severity = 'error' | 'warning' | 'info';

/** Where in a notebook (or around it) a problem lives; groups the codes in docs/diagnostics.md. */
export type DiagnosticArea =
  | 'notebook file'
  | 'notebook metadata'
  | 'cell tags'
  | 'steps'
  | 'Python'
  | 'data flow'
  | 'parameters and metrics'
  | 'target'
  | 'tuning';

export interface DiagnosticCatalogueEntry {
  readonly severity: Severity;
  readonly area: DiagnosticArea;
  /** One line: what the problem is (the diagnostic's message says where, with which names, and the fix). */
  readonly description: string;
}

export const DIAGNOSTIC_CATALOGUE = {
  'not-utf8': {
    severity: 'error',
    area: 'notebook file',
    description: 'The file is not UTF-8 text, so it is not a Jupyter notebook.',
  },
  'malformed-json': {
    severity: 'error',
    area: 'notebook file',
    description: 'The file is not valid JSON.',
  },
  'not-a-notebook': {
    severity: 'error',
    area: 'notebook file',
    description: 'The JSON is not a notebook (no `cells` list).',
  },
  'unsupported-nbformat': {
    severity: 'error',
    area: 'notebook file',
    description: 'The notebook is in an nbformat older than 4.',
  },
  'malformed-cell': {
    severity: 'error',
    area: 'notebook file',
    description: 'A cell is not a JSON object, or its source is neither text nor a list of lines.',
  },
  'malformed-tag': {
    severity: 'error',
    area: 'notebook file',
    description: "A cell's `metadata.tags` is not a list, so no tool sees tags on it.",
  },
  'non-string-tag': {
    severity: 'warning',
    area: 'notebook file',
    description: 'A cell has tags that are not strings; they are ignored.',
  },
  'tag-on-markdown': {
    severity: 'warning',
    area: 'notebook file',
    description: 'A markdown cell carries step tags, which make no step there.',
  },
  'bad-notebook-metadata': {
    severity: 'warning',
    area: 'notebook metadata',
    description: "A setting in `metadata.cellflow` (or Kale's) has the wrong shape and is ignored.",
  },
  'bad-image': {
    severity: 'error',
    area: 'notebook metadata',
    description: "An `image:` tag or the notebook's image is not a container image reference.",
  },
  'unknown-tag': {
    severity: 'warning',
    area: 'cell tags',
    description: 'A tag Cellflow does not know (a typo of one it knows is suggested).',
  },
  'conflicting-role': {
    severity: 'error',
    area: 'cell tags',
    description: 'A cell has two role tags (`step:`, `imports`, `skip`, ...); a cell has one role.',
  },
  'tag-too-long': {
    severity: 'error',
    area: 'cell tags',
    description: 'A tag is longer than Cellflow reads.',
  },
  'bad-step-name': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `step:`, `block:` or `prev:` name is not a valid step name, or is too long.',
  },
  'bad-cache': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `cache:` tag is neither `cache:enabled` nor `cache:disabled`.',
  },
  'bad-gpu-count': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `gpu:` (or GPU `limit:`) count is not a whole number in range.',
  },
  'bad-gpu-product': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `gpu:N:PRODUCT` product is not a valid node label value.',
  },
  'bad-gpu-vendor': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `gpu-vendor:` tag names neither `nvidia` nor `amd`.',
  },
  'bad-quantity': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `cpu:`, `memory:` or `limit:` value is not a Kubernetes quantity in range.',
  },
  'bad-limit': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `limit:` tag is not `limit:RESOURCE:QUANTITY`.',
  },
  'bad-retries': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `retries:` count is not a whole number in range.',
  },
  'bad-timeout': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `timeout:` value is not a duration in range.',
  },
  'bad-env': {
    severity: 'error',
    area: 'cell tags',
    description: 'An `env:` tag is not `env:NAME=VALUE`.',
  },
  'bad-secret': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `secret:` tag is not `secret:SECRET_NAME:KEY:ENV_VAR`.',
  },
  'bad-label': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `label:` tag has an invalid Kubernetes label key or value.',
  },
  'bad-annotation': {
    severity: 'error',
    area: 'cell tags',
    description: 'An `annotation:` tag has an invalid Kubernetes annotation key.',
  },
  'bad-serve': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `serve:` tag does not name a Python variable.',
  },
  'bad-packages': {
    severity: 'error',
    area: 'cell tags',
    description: 'A `packages:` entry is not a pip requirement.',
  },
  'tag-ignored': {
    severity: 'warning',
    area: 'steps',
    description:
      'Step tags on a cell that is not part of a step (imports, functions, skip...) do nothing.',
  },
  'untagged-cell': {
    severity: 'warning',
    area: 'steps',
    description: 'Code above the first step has no tag, so it is not part of the pipeline.',
  },
  'whole-notebook-step': {
    severity: 'info',
    area: 'steps',
    description: 'The notebook has no step tags, so it runs as one step.',
  },
  'untagged-cells-start-step': {
    severity: 'warning',
    area: 'steps',
    description:
      'Code above the first step has no tag, and a step uses a name it defines, so it runs at the start of the first step.',
  },
  'empty-step': {
    severity: 'warning',
    area: 'steps',
    description: 'A step has no code.',
  },
  'no-steps': {
    severity: 'error',
    area: 'steps',
    description: 'The notebook has no steps.',
  },
  'unknown-prev': {
    severity: 'error',
    area: 'steps',
    description: 'A `prev:` tag names no step of the notebook.',
  },
  'prev-to-later-step': {
    severity: 'error',
    area: 'steps',
    description: 'A `prev:` tag names a step further down; steps run in notebook order.',
  },
  cycle: {
    severity: 'error',
    area: 'steps',
    description: 'Steps wait for each other in a loop (or a step lists itself in `prev:`).',
  },
  'syntax-error': {
    severity: 'error',
    area: 'Python',
    description: 'A line is not valid Python (or is nested too deeply to read).',
  },
  'import-star': {
    severity: 'warning',
    area: 'Python',
    description:
      '`from m import *` (or `%run FILE`) hides which names it defines, so they cannot be checked.',
  },
  'unsupported-magic': {
    severity: 'warning',
    area: 'Python',
    description: 'An IPython magic has no effect in a pipeline step and is skipped.',
  },
  'undefined-name': {
    severity: 'error',
    area: 'data flow',
    description:
      'A step uses a name no earlier cell of the pipeline defines (a read where NameError is caught, `try: model` / `except NameError:`, is a test, not a use; so is one in code for another Python or platform, `if sys.version_info < (3, 0): s = unicode(s)`).',
  },
  'function-uses-undefined-name': {
    severity: 'warning',
    area: 'data flow',
    description:
      'A function uses a name no cell of the pipeline defines: calling it fails, as in the notebook.',
  },
  'deleted-name': {
    severity: 'error',
    area: 'data flow',
    description: 'A step uses a name an earlier step deleted with `del`.',
  },
  'defined-in-skipped-cell': {
    severity: 'error',
    area: 'data flow',
    description:
      'A step uses a name only a cell outside the pipeline (skipped or untagged) defines.',
  },
  'continued-step-changes-value': {
    severity: 'warning',
    area: 'data flow',
    description: 'A step continued further down changes a value steps in between already used.',
  },
  'continued-step-reads-changed-value': {
    severity: 'warning',
    area: 'data flow',
    description:
      'A step continued further down reads a value of its own that a step in between changed.',
  },
  'generator-restarted': {
    severity: 'warning',
    area: 'data flow',
    description:
      'Several steps use one generator that never ends (`while True:` around its `yield`), which cannot be saved part way: each starts it again, where the notebook continues it.',
  },
  'unsavable-value': {
    severity: 'error',
    area: 'data flow',
    description:
      'A value that crosses to a later step cannot be saved (a socket, a thread, a process...).',
  },
  'unknown-serve-variable': {
    severity: 'error',
    area: 'data flow',
    description: 'A `serve:` tag names a variable its step neither defines nor loads.',
  },
  'non-literal-parameter': {
    severity: 'info',
    area: 'parameters and metrics',
    description:
      'A `pipeline-parameters` cell assigns a computed value: it runs as code, in the step after the cell, and is not a pipeline parameter.',
  },
  'bad-metrics-cell': {
    severity: 'error',
    area: 'parameters and metrics',
    description: 'A line of the `pipeline-metrics` cell is not `print(variable)`.',
  },
  'metrics-before-steps': {
    severity: 'error',
    area: 'parameters and metrics',
    description: 'The `pipeline-metrics` cell comes before any step, so no step can report it.',
  },
  'cannot-apply-parameters': {
    severity: 'error',
    area: 'parameters and metrics',
    description: "New parameter values cannot be written into the notebook's parameters cell.",
  },
  'image-lacks-modules': {
    severity: 'warning',
    area: 'target',
    description: 'A step imports modules its container image does not have (on a cluster).',
  },
  'gpu-unavailable': {
    severity: 'error',
    area: 'target',
    description:
      'A step asks for GPUs the target does not have (that product, or that many on a node).',
  },
  'gpu-busy': {
    severity: 'warning',
    area: 'target',
    description: "A step's GPUs exist but are busy now, so it will wait.",
  },
  'bad-study': {
    severity: 'error',
    area: 'tuning',
    description: 'The study (objective, parameters, ranges, counts) does not fit the pipeline.',
  },
  'study-setting-ignored': {
    severity: 'warning',
    area: 'tuning',
    description:
      'A study setting has no effect as written (min = max, an unknown additional metric, more parallel trials than trials).',
  },
  'no-study': {
    severity: 'error',
    area: 'tuning',
    description: 'The notebook has no study and none can be made (no pipeline metric to maximize).',
  },
} as const satisfies Readonly<Record<string, DiagnosticCatalogueEntry>>;

/** A diagnostic's stable, kebab-case identifier: one of the catalogue's. */
export type DiagnosticCode = keyof typeof DIAGNOSTIC_CATALOGUE;

/** The severity the catalogue gives `C`. */
export type SeverityOf<C extends DiagnosticCode> = (typeof DIAGNOSTIC_CATALOGUE)[C]['severity'];

/** Every code, in the catalogue's order. */
export const DIAGNOSTIC_CODES = Object.keys(DIAGNOSTIC_CATALOGUE) as DiagnosticCode[];

export function isDiagnosticCode(code: string): code is DiagnosticCode {
  return Object.prototype.hasOwnProperty.call(DIAGNOSTIC_CATALOGUE, code);
}
