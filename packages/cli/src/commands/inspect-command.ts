import {
  analyzeNotebook,
  buildInspectJsonForGraph,
  describeLocation,
  hasErrors,
  type InspectJson,
} from '@cellflow/core';
import type { Command } from 'commander';
import { fileNameOf, readNotebookFile } from '../notebook-file.js';
import type { CliContext } from '../cli-context.js';

function formatResources(step: InspectJson['steps'][number]): string {
  const parts: string[] = [];
  const gpu = step.resources.gpu;
  if (gpu !== null) parts.push(`${gpu.count} × ${gpu.product ?? gpu.resource}`);
  if (step.resources.cpu !== null) parts.push(`cpu ${step.resources.cpu}`);
  if (step.resources.memory !== null) parts.push(`memory ${step.resources.memory}`);
  return parts.join(', ');
}

/** The readable summary: what a person checks before running. */
export function formatInspectSummary(json: InspectJson): string {
  const lines: string[] = [];
  lines.push(
    `Pipeline ${json.pipeline.name}${json.pipeline.description !== '' ? ` — ${json.pipeline.description}` : ''}`,
  );
  if (json.parameters.length > 0) {
    lines.push('Parameters:');
    for (const p of json.parameters)
      lines.push(`  ${p.name}: ${p.type} = ${JSON.stringify(p.default)}`);
  }
  lines.push(`Steps (${json.steps.length}):`);
  for (const s of json.steps) {
    const resources = formatResources(s);
    lines.push(
      `  ${s.name}  [cells ${s.cells.map((c) => c + 1).join(', ')}]${resources !== '' ? `  (${resources})` : ''}`,
    );
    if (s.after.length > 0) lines.push(`    after:   ${s.after.join(', ')}`);
    if (s.inputs.length > 0) lines.push(`    loads:   ${s.inputs.join(', ')}`);
    if (s.outputs.length > 0) lines.push(`    saves:   ${s.outputs.join(', ')}`);
  }
  if (json.metrics.length > 0) lines.push(`Metrics: ${json.metrics.map((m) => m.name).join(', ')}`);
  if (json.diagnostics.length > 0) {
    lines.push('Problems:');
    for (const d of json.diagnostics)
      lines.push(`  ${d.severity} ${describeLocation(d.cell, d.line)} [${d.code}] ${d.message}`);
  }
  return lines.join('\n');
}

export function registerInspectCommand(program: Command, ctx: CliContext): void {
  program
    .command('inspect')
    .description(
      'Show the steps, data flow, parameters, metrics and problems Cellflow finds in a notebook.',
    )
    .argument('<notebook>', 'the .ipynb file')
    .option('--json', 'print the graph as JSON (stable shape for other tools)')
    .action(async (notebook: string, opts: { json?: boolean }) => {
      const bytes = await readNotebookFile(notebook);
      const analysis = analyzeNotebook(bytes, { fileName: fileNameOf(notebook) });
      const json = buildInspectJsonForGraph(analysis.graph, analysis.diagnostics);
      ctx.out(opts.json === true ? JSON.stringify(json, null, 2) : formatInspectSummary(json));
      if (hasErrors(analysis.diagnostics)) ctx.exitCode = 1;
    });
}
