/**
 * Client-side validation of Katib manifests (Experiment, Trial, Suggestion) against Katib's
 * swagger (../shared/schemas/katib/v1beta1.swagger.json); the CRDs themselves accept anything
 * (`x-kubernetes-preserve-unknown-fields`), so this is the only check before a controller runs.
 * Kubernetes types the swagger names but does not define (ObjectMeta, Container, ...) come from
 * Argo's schema. Objects are closed (`additionalProperties: false`) to catch typos, and the value
 * sets Katib's admission webhook enforces are added as enums.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import {
  closeObjectSchemas,
  formatAjvErrors,
  type JsonSchema,
  loadArgoSchema,
  newOpenApiAjv,
  objectOrEmpty as obj,
  SHARED_SCHEMAS,
  validateArgoWorkflowObject,
  validateYamlDocuments,
} from './argo.js';

export type KatibKind = 'Experiment' | 'Trial' | 'Suggestion';

const DEFINITION_OF: Record<KatibKind, string> = {
  Experiment: 'v1beta1.Experiment',
  Trial: '.v1beta1.Trial',
  Suggestion: '.v1beta1.Suggestion',
};

/** Kubernetes definitions the swagger refers to, taken from Argo's (complete) schema. */
const KUBERNETES_ALIASES: Record<string, string> = {
  'v1.ObjectMeta': 'io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  'v1.ListMeta': 'io.k8s.apimachinery.pkg.apis.meta.v1.ListMeta',
  'v1.Time': 'io.k8s.apimachinery.pkg.apis.meta.v1.Time',
  'v1.Container': 'io.k8s.api.core.v1.Container',
  'v1.HTTPGetAction': 'io.k8s.api.core.v1.HTTPGetAction',
};

/** Values Katib's webhook accepts (pkg/webhook/v1beta1/experiment/validator). */
const WEBHOOK_ENUMS: [definition: string, property: string, values: string[]][] = [
  ['v1beta1.ObjectiveSpec', 'type', ['minimize', 'maximize']],
  ['v1beta1.ParameterSpec', 'parameterType', ['int', 'double', 'categorical', 'discrete']],
  ['v1beta1.ExperimentSpec', 'resumePolicy', ['Never', 'LongRunning', 'FromVolume']],
  ['v1beta1.FeasibleSpace', 'distribution', ['uniform', 'logUniform', 'normal', 'logNormal']],
  ['v1beta1.CollectorSpec', 'kind', ['StdOut', 'File', 'TensorFlowEvent', 'PrometheusMetric', 'Custom', 'None']],
  ['v1beta1.MetricStrategy', 'value', ['min', 'max', 'latest']],
]; // prettier-ignore

function loadKatibSchema(): JsonSchema {
  const swagger = JSON.parse(
    readFileSync(join(SHARED_SCHEMAS, 'katib/v1beta1.swagger.json'), 'utf8'),
  ) as { definitions: Record<string, JsonSchema> };
  const argoDefs = loadArgoSchema().definitions as Record<string, JsonSchema>;
  const definitions: Record<string, JsonSchema> = { ...argoDefs };
  for (const [name, def] of Object.entries(swagger.definitions)) {
    closeObjectSchemas(def);
    definitions[name] = def;
  }
  for (const [alias, target] of Object.entries(KUBERNETES_ALIASES)) {
    definitions[alias] = { $ref: `#/definitions/${target}` };
  }
  // A trial's run spec is any Kubernetes object (Job, Argo Workflow, TFJob, ...).
  definitions['v1.unstructured.Unstructured'] = { type: 'object' };
  for (const [definition, property, values] of WEBHOOK_ENUMS) {
    const props = definitions[definition]?.properties as Record<string, JsonSchema> | undefined;
    const prop = props?.[property];
    if (prop !== undefined) prop.enum = values;
  }
  return { definitions };
}

const validators = new Map<KatibKind, ValidateFunction>();

function katibValidator(kind: KatibKind): ValidateFunction {
  const cached = validators.get(kind);
  if (cached !== undefined) return cached;
  if (validators.size === 0) {
    const ajv = newOpenApiAjv();
    ajv.addSchema(loadKatibSchema(), 'katib');
    for (const k of Object.keys(DEFINITION_OF) as KatibKind[]) {
      validators.set(k, ajv.compile({ $ref: `katib#/definitions/${DEFINITION_OF[k]}` }));
    }
  }
  return validators.get(kind)!;
}

/** Errors of one Katib object; the kind comes from the object (or `kind` when given). */
export function validateKatibObject(object: unknown, kind?: KatibKind): string[] {
  const actual = obj(object).kind;
  const k = kind ?? (actual as KatibKind);
  if (!(k in DEFINITION_OF)) {
    return [`/kind: must be one of Experiment, Trial, Suggestion (got ${JSON.stringify(actual)})`];
  }
  const errors: string[] = [];
  if (obj(object).apiVersion !== 'kubeflow.org/v1beta1') {
    errors.push(`/apiVersion: must be "kubeflow.org/v1beta1"`);
  }
  if (kind !== undefined && actual !== kind) errors.push(`/kind: must be "${kind}"`);
  const validate = katibValidator(k);
  if (!validate(object)) errors.push(...formatAjvErrors(validate.errors));
  // A trial template that runs an Argo Workflow is checked against Argo's schema too.
  const trialSpec = obj(obj(obj(obj(object).spec).trialTemplate).trialSpec);
  if (trialSpec.kind === 'Workflow' && trialSpec.apiVersion === 'argoproj.io/v1alpha1') {
    errors.push(
      ...validateArgoWorkflowObject(trialSpec).map((e) => `/spec/trialTemplate/trialSpec${e}`),
    );
  }
  return errors;
}

export function validateKatibExperimentObject(experiment: unknown): string[] {
  return validateKatibObject(experiment, 'Experiment');
}

/** Errors of a YAML file of Katib objects. */
export function validateKatibYaml(text: string): string[] {
  return validateYamlDocuments(text, validateKatibObject);
}
