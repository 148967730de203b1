/** Commands that change a cell's tags: from the cell toolbar, the status bar, the palette or tests. */
import * as vscode from 'vscode';
import {
  analyzePython,
  parseCellTags,
  QUANTITY_PATTERN,
  STEP_NAME_PATTERN,
  toStepName,
  withDependency,
  withGpu,
  withoutDependency,
  withRole,
  withServe,
  withSetting,
  type CellRole,
  type GpuRequest,
  type PipelineStep,
} from '@cellflow/core';
import {
  GPU_COUNT_RULE,
  gpuChoicesOf,
  parseGpuCount,
  withGpuChoice,
  type GpuChoice,
} from '@cellflow/ui/deploy-choices';
import { CommandIds, type CommandKey } from '../command-ids.js';
import { readCellTags, resolveCell, writeCellTags } from '../notebook/notebook-cells.js';
import { describeGpu } from '../tags/describe-cell-tags.js';
import { proposeStepName } from '../tags/propose-step-name.js';
import type { CommandContext, CommandFactory } from './command-context.js';

/** Applies `change` to the target cell's tags; says so when there is no cell to change. */
async function changeTags(
  target: unknown,
  change: (
    tags: readonly string[],
    cell: vscode.NotebookCell,
  ) => Promise<string[] | undefined> | string[] | undefined,
): Promise<boolean> {
  const cell = resolveCell(target);
  if (cell === undefined || cell.kind !== vscode.NotebookCellKind.Code) {
    void vscode.window.showWarningMessage('Cellflow: select a code cell of a notebook first.');
    return false;
  }
  const next = await change(readCellTags(cell), cell);
  if (next === undefined) return false;
  return writeCellTags(cell, next);
}

function stepNames(ctx: CommandContext, cell: vscode.NotebookCell): string[] {
  return ctx.analysis.analyze(cell.notebook).graph?.steps.map((s) => s.name) ?? [];
}

function ownStep(ctx: CommandContext, cell: vscode.NotebookCell): string | undefined {
  return ctx.analysis.analyze(cell.notebook).graph?.steps.find((s) => s.cells.includes(cell.index))
    ?.name;
}

const setStep: CommandFactory = (ctx) => (target, value) =>
  changeTags(target, async (tags, cell) => {
    const current = parseCellTags(tags).tags.role;
    const name =
      typeof value === 'string'
        ? value
        : await vscode.window.showInputBox({
            title: 'Cellflow: Set Step',
            prompt: 'Step name: lowercase letters, digits and _',
            value:
              current.kind === 'step'
                ? current.name
                : proposeStepName(cell.document.getText(), cell.index, stepNames(ctx, cell)),
            validateInput: (v) =>
              STEP_NAME_PATTERN.test(v) ? undefined : `Try "${toStepName(v)}"`,
          });
    if (name === undefined || !STEP_NAME_PATTERN.test(name)) return undefined;
    return withRole(tags, { kind: 'step', name });
  });

const addDependency: CommandFactory = (ctx) => (target, value) =>
  changeTags(target, async (tags, cell) => {
    const own = ownStep(ctx, cell);
    const prev = parseCellTags(tags).tags.prev;
    const step =
      typeof value === 'string'
        ? value
        : await vscode.window.showQuickPick(
            stepNames(ctx, cell).filter((s) => s !== own && !prev.includes(s)),
            { title: 'Cellflow: Add Dependency', placeHolder: `Run ${own ?? 'this step'} after…` },
          );
    return step === undefined ? undefined : withDependency(tags, step);
  });

const removeDependency: CommandFactory = () => (target, value) =>
  changeTags(target, async (tags) => {
    const prev = parseCellTags(tags).tags.prev;
    const step =
      typeof value === 'string'
        ? value
        : await vscode.window.showQuickPick([...prev], { title: 'Cellflow: Remove Dependency' });
    return step === undefined ? undefined : withoutDependency(tags, step);
  });

/** The step `cell` belongs to, and the cell that starts it (where its `step:` tag is). */
function stepOf(
  ctx: CommandContext,
  cell: vscode.NotebookCell,
): { step: PipelineStep; first: vscode.NotebookCell } | undefined {
  const step = ctx.analysis
    .analyze(cell.notebook)
    .graph?.steps.find((s) => s.cells.includes(cell.index));
  if (step === undefined) return undefined;
  const first = cell.notebook.getCells().find((c) => {
    const role = parseCellTags(readCellTags(c)).tags.role;
    return role.kind === 'step' && role.name === step.name;
  });
  return first !== undefined ? { step, first } : undefined;
}

/**
 * Mark Model to Serve…: picks the variables of the cell's step to serve (what Serve Model…
 * offers) among those its cells assign, and writes them as `serve:NAME` tags on the cell that starts
 * the step. A variable name as the argument adds that one (tests, other extensions).
 */
const setServe: CommandFactory = (ctx) => async (target, value) => {
  const cell = resolveCell(target);
  const found = cell !== undefined ? stepOf(ctx, cell) : undefined;
  if (cell === undefined || found === undefined) {
    void vscode.window.showWarningMessage(
      'Cellflow: select a cell of the step that trains the model (a cell tagged `step:NAME` or one below it).',
    );
    return false;
  }
  const { step, first } = found;
  const served = parseCellTags(readCellTags(first)).tags.serve;
  let chosen: readonly string[] | undefined;
  if (typeof value === 'string') chosen = [...served, value];
  else {
    const assigned = [
      ...new Set(
        step.cells.flatMap((index) =>
          analyzePython(cell.notebook.cellAt(index).document.getText(), index).writes.map(
            (w) => w.name,
          ),
        ),
      ),
    ];
    const names = [...new Set([...served, ...assigned])];
    if (names.length === 0) {
      void vscode.window.showWarningMessage(
        `Cellflow: step ${step.name} assigns no variable to serve. Fix: assign the trained model to a variable (\`model = ….fit(X, y)\`).`,
      );
      return false;
    }
    const picks = await vscode.window.showQuickPick(
      names.map((name) => ({
        label: name,
        description: step.outputs.includes(name) ? 'used by later steps' : '',
        picked: served.includes(name),
      })),
      {
        title: `Cellflow: Mark Model to Serve — step ${step.name}`,
        placeHolder: 'The variables holding a trained model (with predict())',
        canPickMany: true,
      },
    );
    chosen = picks?.map((p) => p.label);
  }
  if (chosen === undefined) return false;
  return writeCellTags(first, withServe(readCellTags(first), chosen));
};

/**
 * What a cell may ask for (`gpuChoicesOf`, as Deploy offers): the GPU products the current target
 * offers (the cluster in use, else this machine) with free counts, any GPU, or none.
 */
async function gpuChoices(ctx: CommandContext, cell: vscode.NotebookCell): Promise<GpuChoice[]> {
  if (!vscode.workspace.isTrusted) return gpuChoicesOf([]);
  try {
    const folder = vscode.workspace.getWorkspaceFolder(cell.notebook.uri)?.uri.fsPath;
    const backend =
      ctx.cluster.current ??
      (await ctx.backends.local(folder ?? vscode.Uri.joinPath(cell.notebook.uri, '..').fsPath));
    const capacity = await backend.capacity();
    return gpuChoicesOf(capacity.pools).map((c) =>
      c.free !== undefined ? { ...c, description: `${c.description} on ${capacity.target}` } : c,
    );
  } catch {
    return gpuChoicesOf([]);
  }
}

function isGpuRequest(v: unknown): v is GpuRequest | null {
  return v === null || (typeof v === 'object' && typeof (v as GpuRequest).count === 'number');
}

const setGpu: CommandFactory = (ctx) => (target, value) =>
  changeTags(target, async (tags, cell) => {
    if (isGpuRequest(value)) return withGpu(tags, value ?? undefined);
    const pick = await vscode.window.showQuickPick(
      (await gpuChoices(ctx, cell)).map((choice) => ({
        label: choice.label,
        description: choice.description,
        choice,
      })),
      { title: 'Cellflow: Set GPU' },
    );
    if (pick === undefined) return undefined;
    if (pick.choice.gpu === null) return withGpuChoice(tags, pick.choice, 0);
    const typed = await vscode.window.showInputBox({
      title: 'Cellflow: Set GPU',
      prompt: 'How many GPUs?',
      value: String(parseCellTags(tags).tags.gpu?.count ?? 1),
      validateInput: (v) => (parseGpuCount(v) !== undefined ? undefined : GPU_COUNT_RULE),
    });
    const count = typed !== undefined ? parseGpuCount(typed) : undefined;
    if (count === undefined) return undefined;
    const next = withGpuChoice(tags, pick.choice, count);
    const gpu = parseCellTags(next).tags.gpu;
    if (gpu !== undefined)
      void vscode.window.setStatusBarMessage(`Cellflow: ${describeGpu(gpu)}`, 3000);
    return next;
  });

function settingCommand(
  key: 'image' | 'cpu' | 'memory',
  prompt: string,
  example: string,
): CommandFactory {
  return () => (target, value) =>
    changeTags(target, async (tags) => {
      const current = parseCellTags(tags).tags[key] ?? '';
      const next =
        typeof value === 'string'
          ? value
          : await vscode.window.showInputBox({
              title: `Cellflow: Set ${key === 'image' ? 'Image' : key === 'cpu' ? 'CPU' : 'Memory'}`,
              prompt: `${prompt} (empty removes it)`,
              placeHolder: example,
              value: current,
              validateInput: (v) =>
                key === 'image' || v.trim() === '' || QUANTITY_PATTERN.test(v.trim())
                  ? undefined
                  : `A Kubernetes quantity such as ${example}`,
            });
      return next === undefined ? undefined : withSetting(tags, key, next);
    });
}

function roleCommand(role: CellRole): CommandFactory {
  return () => (target) => changeTags(target, (tags) => withRole(tags, role));
}

const applyTags: CommandFactory = () => (target, tags) =>
  changeTags(target, () =>
    Array.isArray(tags) ? tags.filter((t): t is string => typeof t === 'string') : undefined,
  );

const EDIT_CHOICES: readonly { label: string; key: CommandKey }[] = [
  { label: 'Set Step…', key: 'setStep' },
  { label: 'Add Dependency…', key: 'addDependency' },
  { label: 'Remove Dependency…', key: 'removeDependency' },
  { label: 'Set GPU…', key: 'setGpu' },
  { label: 'Set Image…', key: 'setImage' },
  { label: 'Set CPU…', key: 'setCpu' },
  { label: 'Set Memory…', key: 'setMemory' },
  { label: 'Mark Model to Serve…', key: 'setServe' },
  { label: 'Mark as Imports', key: 'markImports' },
  { label: 'Mark as Functions', key: 'markFunctions' },
  { label: 'Mark as Parameters', key: 'markParameters' },
  { label: 'Mark as Metrics', key: 'markMetrics' },
  { label: 'Mark as Skip', key: 'markSkip' },
  { label: 'Clear Role', key: 'clearRole' },
];

const editCellTags: CommandFactory = () => async (target) => {
  const pick = await vscode.window.showQuickPick(EDIT_CHOICES, {
    title: 'Cellflow: Edit Cell Tags',
  });
  if (pick !== undefined) await vscode.commands.executeCommand(CommandIds[pick.key], target);
};

export const tagCommands = {
  editCellTags,
  setStep,
  addDependency,
  removeDependency,
  setGpu,
  setImage: settingCommand('image', 'Container image for this step', 'python:3.11-slim'),
  setCpu: settingCommand('cpu', 'CPU request', '500m'),
  setMemory: settingCommand('memory', 'Memory request', '4Gi'),
  setServe,
  markImports: roleCommand({ kind: 'imports' }),
  markFunctions: roleCommand({ kind: 'functions' }),
  markParameters: roleCommand({ kind: 'parameters' }),
  markMetrics: roleCommand({ kind: 'metrics' }),
  markSkip: roleCommand({ kind: 'skip' }),
  clearRole: roleCommand({ kind: 'continue' }),
  applyTags,
} satisfies Partial<Record<CommandKey, CommandFactory>>;
