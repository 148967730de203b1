/**
 * Client-side validation of Argo Workflow manifests against Argo's own JSON Schema
 * (../shared/schemas/argo/workflow.schema.json). Kubernetes 1.20 prunes unknown fields silently, so
 * this is where a typo'd field is caught: every object with declared properties is closed
 * (`additionalProperties: false`). Like the API server, Quantity and IntOrString also accept numbers,
 * and Time accepts null (Go's `creationTimestamp: null`).
 *
 * Also exports the shared pieces the Katib and KServe validators use.
 */
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Ajv, type ErrorObject } from 'ajv';
import { Ajv2020, type ValidateFunction } from 'ajv/dist/2020.js';
import addFormatsModule from 'ajv-formats';
import { parseAllDocuments } from 'yaml';
import { REPO_ROOT as repoRoot } from '../support/paths.js';

export const SHARED_SCHEMAS = resolve(repoRoot, '../shared/schemas');

// ajv-formats is CommonJS; under NodeNext its default export is the module object.
const addFormats = addFormatsModule as unknown as typeof addFormatsModule.default;

export type JsonSchema = Record<string, unknown>;

const isObject = (v: unknown): v is Record<string, unknown> =>
  typeof v === 'object' && v !== null && !Array.isArray(v);

/** `v` when it is a plain object, else `{}` (for reading fields of untyped manifests). */
export const objectOrEmpty = (v: unknown): Record<string, unknown> => (isObject(v) ? v : {});

/**
 * Adds `additionalProperties: false` to every schema node that lists `properties` and says nothing
 * about other keys (and is not marked `x-kubernetes-preserve-unknown-fields`). Walks schema
 * positions only, so a property that happens to be called "properties" is not mistaken for one.
 */
export function closeObjectSchemas(schema: unknown): void {
  if (!isObject(schema)) return;
  if (
    isObject(schema.properties) &&
    schema.additionalProperties === undefined &&
    schema['x-kubernetes-preserve-unknown-fields'] !== true
  ) {
    schema.additionalProperties = false;
  }
  for (const key of ['properties', 'definitions', '$defs', 'patternProperties']) {
    const map = schema[key];
    if (isObject(map)) for (const child of Object.values(map)) closeObjectSchemas(child);
  }
  for (const key of ['items', 'additionalProperties', 'not', 'if', 'then', 'else']) {
    closeObjectSchemas(schema[key]);
  }
  for (const key of ['allOf', 'anyOf', 'oneOf', 'prefixItems']) {
    const list = schema[key];
    if (Array.isArray(list)) for (const child of list) closeObjectSchemas(child);
  }
}

/** Number formats of Kubernetes/OpenAPI schemas, as ajv formats. */
const NUMBER_FORMATS = {
  int32: { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 },
  int64: { type: 'number', validate: (n: number) => Number.isInteger(n) },
  uint64: { type: 'number', validate: (n: number) => Number.isInteger(n) && n >= 0 },
  double: { type: 'number', validate: () => true },
  float: { type: 'number', validate: () => true },
} as const;

/** Adds the string formats (ajv-formats) and the Kubernetes/OpenAPI number formats to `ajv`. */
function addKubernetesFormats(ajv: Parameters<typeof addFormats>[0]): void {
  addFormats(ajv);
  for (const [name, format] of Object.entries(NUMBER_FORMATS)) ajv.addFormat(name, format);
}

/** An ajv for OpenAPI (draft-07) schemas: every error, unknown keywords allowed, Kubernetes formats. */
export function newOpenApiAjv(): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: true });
  addKubernetesFormats(ajv);
  return ajv;
}

/** Readable one-line messages: `/spec/templates/0/contianer: unknown field "contianer"`. */
export function formatAjvErrors(errors: ErrorObject[] | null | undefined, prefix = ''): string[] {
  const out = new Set<string>();
  for (const e of errors ?? []) {
    const where = `${prefix}${e.instancePath}` || '/';
    if (e.keyword === 'additionalProperties') {
      const field = String((e.params as { additionalProperty?: unknown }).additionalProperty);
      out.add(`${where}/${field}: unknown field "${field}"`);
    } else if (e.keyword === 'enum') {
      const allowed = (e.params as { allowedValues?: unknown[] }).allowedValues ?? [];
      out.add(`${where}: must be one of ${allowed.map((v) => JSON.stringify(v)).join(', ')}`);
    } else if (e.keyword === 'if' || e.keyword === 'anyOf' || e.keyword === 'oneOf') {
      continue; // the branch errors say more
    } else {
      out.add(`${where}: ${e.message ?? e.keyword}`);
    }
  }
  return [...out];
}

/** Argo's schema with the Kubernetes adjustments above; a fresh copy on every call. */
export function loadArgoSchema(): JsonSchema {
  const schema = JSON.parse(
    readFileSync(join(SHARED_SCHEMAS, 'argo/workflow.schema.json'), 'utf8'),
  ) as JsonSchema;
  const defs = schema.definitions as Record<string, JsonSchema>;
  const quantity = defs['io.k8s.apimachinery.pkg.api.resource.Quantity'];
  if (quantity !== undefined) {
    delete quantity.type;
    quantity.type = ['string', 'number'];
  }
  const intOrString = defs['io.k8s.apimachinery.pkg.util.intstr.IntOrString'];
  if (intOrString !== undefined) intOrString.type = ['string', 'integer'];
  const time = defs['io.k8s.apimachinery.pkg.apis.meta.v1.Time'];
  if (time !== undefined) time.type = ['string', 'null'];
  closeObjectSchemas(schema);
  return schema;
}

const WORKFLOW_REF = '#/definitions/io.argoproj.workflow.v1alpha1.Workflow';
let workflowValidator: ValidateFunction | undefined;

function argoWorkflowValidator(): ValidateFunction {
  if (workflowValidator !== undefined) return workflowValidator;
  const ajv = new Ajv2020({ strict: false, allErrors: true, validateFormats: true });
  addKubernetesFormats(ajv);
  const schema = loadArgoSchema();
  ajv.addSchema(schema, 'argo');
  workflowValidator = ajv.compile({ $ref: `argo${WORKFLOW_REF}` });
  return workflowValidator;
}

/** Errors of an Argo Workflow object (empty when valid). */
export function validateArgoWorkflowObject(workflow: unknown): string[] {
  const validate = argoWorkflowValidator();
  if (validate(workflow)) return [];
  return formatAjvErrors(validate.errors);
}

/** Parses YAML (one or more documents); errors of each document, prefixed with its index. */
export function parseYamlDocuments(text: string): { docs: unknown[]; errors: string[] } {
  const parsed = parseAllDocuments(text);
  const errors: string[] = [];
  parsed.forEach((d, i) => {
    for (const e of d.errors) errors.push(`document ${i}: YAML: ${e.message}`);
  });
  const docs = parsed.map((d) => d.toJS() as unknown).filter((d) => d !== null && d !== undefined);
  return { docs, errors };
}

/**
 * Errors of a YAML file whose every document `validateObject` checks: YAML errors first, else each
 * document's errors (prefixed with its index when there are several).
 */
export function validateYamlDocuments(
  text: string,
  validateObject: (doc: unknown) => string[],
): string[] {
  const { docs, errors } = parseYamlDocuments(text);
  if (errors.length > 0) return errors;
  if (docs.length === 0) return ['no YAML document'];
  return docs.flatMap((doc, i) =>
    validateObject(doc).map((e) => (docs.length > 1 ? `document ${i}: ${e}` : e)),
  );
}

/** Errors of a YAML file of Argo Workflows (each document must be a Workflow). */
export function validateArgoWorkflowYaml(text: string): string[] {
  return validateYamlDocuments(text, validateArgoWorkflowObject);
}
