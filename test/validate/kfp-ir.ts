/**
 * Validates KFP v2 pipeline IR against the real KFP protos (../shared/schemas/kfp/proto):
 * a descriptor set built with buf, then @bufbuild/protobuf's strict JSON parsing (unknown fields
 * and bad enum values are errors). On top, the references KFP's backend resolves at submit time
 * (components, executors, producer tasks, artifact keys, placeholders) are checked.
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  renameSync,
  rmSync,
} from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import {
  createFileRegistry,
  fromBinary,
  fromJson,
  type FileRegistry,
  type JsonValue,
} from '@bufbuild/protobuf';
import { FileDescriptorSetSchema } from '@bufbuild/protobuf/wkt';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT as repoRoot } from '../support/paths.js';

export const SHARED_SCHEMAS = resolve(repoRoot, '../shared/schemas');
const protoDir = join(SHARED_SCHEMAS, 'kfp/proto');

/** The KFP backend releases whose pinned protos are kept in ../shared/schemas/kfp/releases. */
export const KFP_RELEASES = ['2.3.0', '2.4.1', '2.5.0', '2.17.0'] as const;
export type KfpRelease = (typeof KFP_RELEASES)[number];

const registries = new Map<string, FileRegistry>();

function listProtos(dir: string): string[] {
  return readdirSync(dir, { recursive: true })
    .map(String)
    .filter((f) => f.endsWith('.proto'))
    .sort();
}

/**
 * Builds (once per proto content) and loads the descriptor set of the current protos, or of a
 * release's pinned ones. Release folders hold only the two KFP files; `google/rpc` comes from the
 * current folder, as it does in KFP's own build.
 */
export function kfpRegistry(release?: KfpRelease): FileRegistry {
  const key = release ?? 'current';
  const cached = registries.get(key);
  if (cached !== undefined) return cached;
  const sources = new Map<string, string>();
  for (const f of listProtos(protoDir)) sources.set(f, join(protoDir, f));
  if (release !== undefined) {
    const dir = join(SHARED_SCHEMAS, 'kfp/releases', release);
    for (const f of listProtos(dir)) sources.set(f, join(dir, f));
  }
  const hash = createHash('sha256');
  for (const [f, path] of sources) hash.update(f).update(readFileSync(path));
  const cacheDir = join(repoRoot, 'node_modules/.cache/cellflow');
  const out = join(cacheDir, `kfp-${hash.digest('hex').slice(0, 16)}.binpb`);
  if (!existsSync(out)) {
    const tmp = `${out}.${process.pid}.tmp`;
    const tree = `${tmp}.protos`;
    for (const [f, path] of sources) {
      mkdirSync(dirname(join(tree, f)), { recursive: true });
      copyFileSync(path, join(tree, f));
    }
    // buf's platform package is used directly: the registry lacks the meta-package's other platforms.
    const buf = join(repoRoot, 'node_modules/@bufbuild/buf-linux-x64/bin/buf');
    try {
      execFileSync(buf, ['build', tree, '-o', tmp], { stdio: 'pipe' });
    } finally {
      rmSync(tree, { recursive: true, force: true });
    }
    renameSync(tmp, out);
  }
  const registry = createFileRegistry(fromBinary(FileDescriptorSetSchema, readFileSync(out)));
  registries.set(key, registry);
  return registry;
}

function protoErrors(typeName: string, value: unknown, where: string): string[] {
  const schema = kfpRegistry().getMessage(typeName);
  if (schema === undefined) return [`${typeName} is not in the KFP protos`];
  try {
    fromJson(schema, value as JsonValue, { ignoreUnknownFields: false });
    return [];
  } catch (error) {
    return [`${where}: ${error instanceof Error ? error.message : String(error)}`];
  }
}

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** The cross-references KFP resolves when it compiles a run; the protos cannot express them. */
export function referenceErrors(spec: Json): string[] {
  const errors: string[] = [];
  const components = obj(spec.components);
  const executors = obj(obj(spec.deploymentSpec).executors);
  const root = obj(spec.root);
  const tasks = obj(obj(root.dag).tasks);
  for (const [name, c] of Object.entries(components)) {
    if (obj(c).dag !== undefined) {
      const dag = obj(obj(c).dag);
      const dagTasks = obj(dag.tasks);
      checkDag(dagTasks, obj(obj(c).inputDefinitions), components, errors);
      // Each DAG output is declared and selects an output of one of its tasks.
      const declared = obj(obj(obj(c).outputDefinitions).artifacts);
      const selected = obj(obj(dag.outputs).artifacts);
      for (const key of Object.keys(declared))
        if (selected[key] === undefined)
          errors.push(`component ${name}: output ${key} not selected`);
      for (const [key, sel] of Object.entries(selected)) {
        if (declared[key] === undefined)
          errors.push(`component ${name}: output ${key} not declared`);
        for (const s of (obj(sel).artifactSelectors as Json[] | undefined) ?? []) {
          const sub = obj(dagTasks[String(s.producerSubtask)]);
          const subComp = obj(components[String(obj(sub.componentRef).name)]);
          if (
            obj(obj(subComp.outputDefinitions).artifacts)[String(s.outputArtifactKey)] === undefined
          )
            errors.push(
              `component ${name}: output ${key} selects ${String(s.producerSubtask)}.${String(s.outputArtifactKey)}, which does not exist`,
            );
        }
      }
      continue;
    }
    const label = obj(c).executorLabel;
    if (typeof label !== 'string' || executors[label] === undefined)
      errors.push(`component ${name}: executor ${String(label)} missing`);
    const exec = obj(executors[String(label)]);
    const args = [
      ...((obj(exec.container).command as string[]) ?? []),
      ...((obj(exec.container).args as string[]) ?? []),
    ];
    const inputs = obj(obj(c).inputDefinitions);
    const outputs = obj(obj(c).outputDefinitions);
    for (const a of args) {
      for (const [, kind, key] of a.matchAll(
        /\{\{\$\.(inputs\.parameters|inputs\.artifacts|outputs\.artifacts)\['([^']+)'\]/g,
      )) {
        const table =
          kind === 'inputs.parameters'
            ? obj(inputs.parameters)
            : kind === 'inputs.artifacts'
              ? obj(inputs.artifacts)
              : obj(outputs.artifacts);
        if (table[key!] === undefined)
          errors.push(
            `executor ${String(label)}: placeholder ${kind}['${key}'] is not defined by ${name}`,
          );
      }
    }
  }
  checkDag(tasks, obj(root.inputDefinitions), components, errors);
  return errors;
}

function checkDag(tasks: Json, enclosing: Json, components: Json, errors: string[]): void {
  const enclosingParams = obj(enclosing.parameters);
  const enclosingArtifacts = obj(enclosing.artifacts);
  for (const [name, t] of Object.entries(tasks)) {
    const task = obj(t);
    const compName = String(obj(task.componentRef).name);
    const comp = obj(components[compName]);
    if (components[compName] === undefined)
      errors.push(`task ${name}: component ${compName} missing`);
    for (const dep of (task.dependentTasks as string[] | undefined) ?? [])
      if (tasks[dep] === undefined) errors.push(`task ${name}: dependent task ${dep} missing`);
    const defs = obj(comp.inputDefinitions);
    const ins = obj(task.inputs);
    for (const [key, p] of Object.entries(obj(ins.parameters))) {
      if (obj(defs.parameters)[key] === undefined && !key.startsWith('pipelinechannel--'))
        errors.push(`task ${name}: parameter ${key} not declared by ${compName}`);
      const ref = obj(p).componentInputParameter;
      if (typeof ref === 'string' && enclosingParams[ref] === undefined)
        errors.push(`task ${name}: pipeline parameter ${ref} missing`);
    }
    for (const key of Object.keys(obj(defs.parameters)))
      if (obj(ins.parameters)[key] === undefined)
        errors.push(`task ${name}: parameter ${key} not supplied`);
    for (const key of Object.keys(obj(defs.artifacts)))
      if (obj(ins.artifacts)[key] === undefined)
        errors.push(`task ${name}: artifact ${key} not supplied`);
    for (const [key, a] of Object.entries(obj(ins.artifacts))) {
      const fromInput = obj(a).componentInputArtifact;
      if (typeof fromInput === 'string') {
        if (enclosingArtifacts[fromInput] === undefined)
          errors.push(`task ${name}: artifact ${key} from undeclared DAG input ${fromInput}`);
        continue;
      }
      const src = obj(obj(a).taskOutputArtifact);
      const producer = obj(tasks[String(src.producerTask)]);
      if (tasks[String(src.producerTask)] === undefined) {
        errors.push(`task ${name}: artifact ${key} from missing task ${String(src.producerTask)}`);
        continue;
      }
      const producerComp = obj(components[String(obj(producer.componentRef).name)]);
      if (
        obj(obj(producerComp.outputDefinitions).artifacts)[String(src.outputArtifactKey)] ===
        undefined
      ) {
        errors.push(
          `task ${name}: ${String(src.producerTask)} has no output artifact ${String(src.outputArtifactKey)}`,
        );
      }
    }
  }
}

/** Errors of a PipelineSpec object (empty when valid). */
export function validatePipelineSpecObject(spec: unknown): string[] {
  const errors = protoErrors('ml_pipelines.PipelineSpec', spec, 'PipelineSpec');
  return errors.length > 0 ? errors : referenceErrors(obj(spec));
}

/** Errors of a PlatformSpec object, checking each Kubernetes executor config too. */
export function validatePlatformSpecObject(platform: unknown): string[] {
  const errors = protoErrors('ml_pipelines.PlatformSpec', platform, 'PlatformSpec');
  const executors = obj(obj(obj(obj(obj(platform).platforms).kubernetes).deploymentSpec).executors);
  for (const [name, config] of Object.entries(executors)) {
    errors.push(
      ...protoErrors(
        'kfp_kubernetes.KubernetesExecutorConfig',
        config,
        `platform executor ${name}`,
      ),
    );
  }
  return errors;
}

/** Errors of a compiled pipeline YAML file (PipelineSpec, optionally followed by a PlatformSpec). */
export function validatePipelineYaml(text: string): string[] {
  const docs = parseAllDocuments(text);
  const errors: string[] = [];
  for (const d of docs) for (const e of d.errors) errors.push(`YAML: ${e.message}`);
  if (errors.length > 0) return errors;
  const [spec, platform, ...rest] = docs.map((d) => d.toJS() as unknown);
  if (rest.length > 0) errors.push(`expected at most 2 YAML documents, got ${docs.length}`);
  errors.push(...validatePipelineSpecObject(spec));
  if (platform !== undefined && platform !== null)
    errors.push(...validatePlatformSpecObject(platform));
  return errors;
}
