/**
 * Before a pipeline goes to a cluster: steps whose image is a bare Python image (`python:3.11`,
 * the default) but whose code imports modules from outside the standard library, with no
 * `packages:` to install them. On a cluster such a step fails with ModuleNotFoundError; this says
 * so first, naming the modules and the fix.
 */
import type { Diagnostic } from '../../diagnostics.js';
import { DEFAULT_IMAGE } from '../../graph/build-graph.js';
import type { PipelineGraph } from '../../graph/pipeline-graph.js';
import type { Notebook } from '../../notebook/notebook.js';
import {
  distributionOfModule,
  importedModules,
  isStandardLibraryModule,
} from '../../python/imported-modules.js';

/** Images that hold Python and its standard library only (Docker Hub's `python` images). */
const BARE_PYTHON_IMAGE =
  /^(?:docker\.io\/)?(?:library\/)?python(?::[^@/]*)?(?:@sha256:[0-9a-f]+)?$/;

/** What installing a common distribution brings with it (its required dependencies). */
const BRINGS: Readonly<Record<string, readonly string[]>> = {
  'scikit-learn': ['numpy', 'scipy', 'joblib', 'threadpoolctl'],
  pandas: ['numpy', 'python-dateutil', 'pytz'],
  matplotlib: ['numpy', 'pillow', 'python-dateutil', 'pyparsing', 'cycler', 'kiwisolver'],
  seaborn: ['numpy', 'pandas', 'matplotlib', 'pillow', 'python-dateutil', 'pytz'],
  scipy: ['numpy'],
  xgboost: ['numpy', 'scipy'],
  lightgbm: ['numpy', 'scipy'],
  statsmodels: ['numpy', 'scipy', 'pandas', 'patsy'],
  'scikit-image': ['numpy', 'scipy', 'pillow'],
  'opencv-python': ['numpy'],
};

/** A requirement's distribution name, normalised as pip compares them (PEP 503). */
function distributionName(requirement: string): string {
  const name = /^[A-Za-z0-9._-]+/.exec(requirement)?.[0] ?? requirement;
  return name.toLowerCase().replace(/[-_.]+/g, '-');
}

/**
 * One warning per step that may fail so; with the notebook, each carries the fix as a tag edit
 * (the step's first cell gains the `packages:` it lacks).
 */
export function checkStepImagesForCluster(
  graph: PipelineGraph,
  code: ReadonlyMap<number, string>,
  notebook?: Notebook,
): Diagnostic[] {
  const diagnostics: Diagnostic[] = [];
  const modulesOf = new Map<string, string[]>();
  const modules = (text: string): string[] => {
    let found = modulesOf.get(text);
    if (found === undefined) {
      found = importedModules(text);
      modulesOf.set(text, found);
    }
    return found;
  };
  for (const step of graph.steps) {
    if (!BARE_PYTHON_IMAGE.test(step.image)) continue;
    const installed = new Set(step.packages.map(distributionName));
    for (const name of [...installed]) for (const d of BRINGS[name] ?? []) installed.add(d);
    const missing = new Set<string>();
    for (const text of [
      ...step.units.map((u) => u.code),
      ...step.cells.map((c) => code.get(c) ?? ''),
    ]) {
      for (const m of modules(text))
        if (
          !isStandardLibraryModule(m) &&
          !installed.has(distributionName(distributionOfModule(m)))
        )
          missing.add(m);
    }
    if (missing.size === 0) continue;
    const names = [...missing].sort();
    const distributions = [...new Set(names.map(distributionOfModule))];
    const cell = step.cells[0] ?? null;
    const tagged = cell !== null ? notebook?.cells[cell]?.tags : undefined;
    const packagesTag = `packages:${distributions.join(',')}`;
    diagnostics.push({
      severity: 'warning',
      code: 'image-lacks-modules',
      cell,
      line: null,
      ...(tagged !== undefined && cell !== null
        ? {
            fix: {
              title: `Add \`${packagesTag}\` to step \`${step.name}\``,
              tags: { cell, tags: [...tagged, packagesTag] },
            },
          }
        : {}),
      message:
        `Step \`${step.name}\` imports ${names.map((n) => `\`${n}\``).join(', ')}, which its image \`${step.image}\` does not have: on a cluster it would fail with ModuleNotFoundError. ` +
        `Fix: tag the step \`packages:${distributions.join(',')}\` (or list them in metadata.cellflow "packages" for every step), or choose an image that has them (an \`image:\` tag, "image" in metadata.cellflow, or --image).`,
    });
  }
  return diagnostics;
}

/**
 * The graph with the steps left on the default image moved to `image` (a Kubeflow notebook
 * server's own image, which the cluster uses instead of the default); the same graph without one.
 */
export function withDefaultImage(
  graph: PipelineGraph,
  image: string | null | undefined,
): PipelineGraph {
  if (image === undefined || image === null || !graph.steps.some((s) => s.image === DEFAULT_IMAGE))
    return graph;
  return {
    ...graph,
    steps: graph.steps.map((s) => (s.image === DEFAULT_IMAGE ? { ...s, image } : s)),
  };
}
