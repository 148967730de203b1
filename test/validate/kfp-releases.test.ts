/**
 * Every golden IR under the protos each supported KFP backend release pins, parsed the way that
 * release parses it, and read the way its driver reads it: the fields it reads must carry each
 * step's CPU, memory, GPU type and count, and secret names.
 *
 * How each release parses (kubeflow/pipelines backend/src/v2): the container spec always drops
 * unknown fields (2.3's API server re-reads the deployment config with AllowUnknownFields, the
 * 2.4+ driver uses DiscardUnknown); the Kubernetes executor config is strict in 2.3 (jsonpb) and
 * drops unknown fields from 2.4.
 */
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fromJson, type JsonValue } from '@bufbuild/protobuf';
import { quantityValue, taskNameForStep, type PipelineStep } from '@cellflow/core';
import { parseAllDocuments } from 'yaml';
import { goldenCases, goldenDir, goldenOutput } from '../golden/golden-cases.js';
import { KFP_RELEASES, kfpRegistry, type KfpRelease } from './kfp-ir.js';

type Json = Record<string, unknown>;
const obj = (v: unknown): Json =>
  typeof v === 'object' && v !== null && !Array.isArray(v) ? (v as Json) : {};

/** What a release's driver puts on the pod, from the parsed (typed) messages. */
interface ReadResources {
  cpu?: string;
  memory?: string;
  gpuType?: string;
  gpuCount?: string;
  secrets: string[];
}

const atLeast = (release: KfpRelease, version: string): boolean => {
  const [a, b] = release.split('.').map(Number);
  const [c, d] = version.split('.').map(Number);
  return a! > c! || (a === c && b! >= d!);
};

function parse(release: KfpRelease, type: string, value: unknown, strict: boolean): Json {
  const schema = kfpRegistry(release).getMessage(type);
  assert.ok(schema !== undefined, `${type} missing from ${release}'s protos`);
  return fromJson(schema, value as JsonValue, { ignoreUnknownFields: !strict });
}

/** The driver's resource and secret reading (driver.go / k8s.go of each release). */
function readAsRelease(release: KfpRelease, container: Json, kubernetes: Json): ReadResources {
  const resources = obj(container.resources);
  const accelerator = obj(resources.accelerator);
  const out: ReadResources = { secrets: [] };
  const modern = atLeast(release, '2.4');
  const str = (v: unknown): string | undefined =>
    typeof v === 'string' && v !== '' ? v : undefined;
  const num = (v: unknown, unit = ''): string | undefined =>
    typeof v === 'number' && v !== 0
      ? `${v}${unit}`
      : typeof v === 'bigint' && v !== 0n
        ? `${v}${unit}`
        : undefined;
  out.cpu = (modern ? str(resources.resourceCpuLimit) : undefined) ?? num(resources.cpuLimit);
  out.memory =
    (modern ? str(resources.resourceMemoryLimit) : undefined) ?? num(resources.memoryLimit, 'G');
  out.gpuType = (modern ? str(accelerator.resourceType) : undefined) ?? str(accelerator.type);
  out.gpuCount = (modern ? str(accelerator.resourceCount) : undefined) ?? num(accelerator.count);
  for (const secret of (kubernetes.secretAsEnv as Json[] | undefined) ?? []) {
    const parameter = obj(obj(secret.secretNameParameter).kind);
    const fromParameter =
      atLeast(release, '2.5') && parameter.case === 'runtimeValue'
        ? obj(obj(obj(parameter.value).value).kind)
        : undefined;
    out.secrets.push(
      String(
        fromParameter !== undefined && fromParameter.case === 'stringValue'
          ? fromParameter.value
          : secret.secretName,
      ),
    );
  }
  return out;
}

function expectedFor(step: PipelineStep): ReadResources {
  const r = step.resources;
  return {
    ...(r.cpu !== null ? { cpu: r.cpu } : {}),
    ...(r.memory !== null ? { memory: r.memory } : {}),
    ...(r.gpu !== null ? { gpuType: r.gpu.resource, gpuCount: String(r.gpu.count) } : {}),
    secrets: [...new Set(step.secrets.map((s) => s.secret))],
  };
}

/** Quantities compare by value: 2.3 reads `1.073741824G` where the tag said `1Gi`. */
function sameQuantity(a: string | undefined, b: string | undefined): boolean {
  if (a === undefined || b === undefined) return a === b;
  const x = quantityValue(a);
  const y = quantityValue(b);
  return x !== null && y !== null && Math.abs(x - y) <= 1e-9 * Math.max(x, y);
}

const cases = goldenCases()
  .map((c) => ({ c, out: goldenOutput(c) }))
  .filter(({ out }) => out.pipelineYaml !== null);

describe('KFP IR read by every supported backend release', () => {
  it('covers steps with CPU, memory, GPUs of two vendors and secrets', () => {
    const steps = cases.flatMap(({ c }) => compiledSteps(c.notebookPath));
    assert.ok(steps.some((s) => s.resources.cpu !== null));
    assert.ok(steps.some((s) => s.resources.memory !== null));
    assert.ok(steps.some((s) => s.resources.gpu?.resource === 'nvidia.com/gpu'));
    assert.ok(steps.some((s) => s.resources.gpu?.resource === 'amd.com/gpu'));
    assert.ok(steps.some((s) => s.secrets.length > 0));
  });

  for (const release of KFP_RELEASES) {
    it(`${release}: every golden parses, and the fields it reads carry the resources`, () => {
      let checked = 0;
      for (const { c } of cases) {
        const yaml = readFileSync(join(goldenDir, c.name, 'pipeline.yaml'), 'utf8');
        const [spec, platform] = parseAllDocuments(yaml).map((d) => obj(d.toJS()));
        parse(release, 'ml_pipelines.PipelineSpec', spec, true);
        const executors = obj(obj(spec!.deploymentSpec).executors);
        const kubernetes = obj(
          obj(obj(obj(platform).platforms).kubernetes).deploymentSpec,
        ).executors;
        const components = obj(spec!.components);
        for (const step of compiledSteps(c.notebookPath)) {
          const label = String(obj(components[`comp-${taskNameForStep(step.name)}`]).executorLabel);
          const container = parse(
            release,
            'ml_pipelines.PipelineDeploymentConfig.PipelineContainerSpec',
            obj(obj(executors[label]).container),
            false,
          );
          const config = obj(obj(kubernetes)[label]);
          const k8s = parse(
            release,
            'kfp_kubernetes.KubernetesExecutorConfig',
            config,
            !atLeast(release, '2.4'),
          );
          const read = readAsRelease(release, container, k8s);
          const want = expectedFor(step);
          const where = `${c.name} step ${step.name} under ${release}`;
          assert.ok(sameQuantity(read.cpu, want.cpu), `${where}: cpu ${read.cpu} ≠ ${want.cpu}`);
          assert.ok(
            sameQuantity(read.memory, want.memory),
            `${where}: memory ${read.memory} ≠ ${want.memory}`,
          );
          assert.equal(read.gpuType, want.gpuType, `${where}: GPU type`);
          assert.equal(read.gpuCount, want.gpuCount, `${where}: GPU count`);
          assert.deepEqual(read.secrets, want.secrets, `${where}: secrets`);
          checked++;
        }
      }
      assert.ok(checked > 20, `only ${checked} steps checked`);
    });
  }
});

function compiledSteps(notebookPath: string): PipelineStep[] {
  return cases.find(({ c }) => c.notebookPath === notebookPath)?.out.graph?.steps.slice() ?? [];
}
