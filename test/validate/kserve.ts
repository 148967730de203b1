/**
 * Client-side validation of KServe InferenceService manifests against the CRD's own
 * `openAPIV3Schema` (../shared/schemas/kserve/inferenceservices.crd.yaml), as the API server would
 * check it, plus strictness the server lacks: unknown fields are errors (1.20 prunes them silently)
 * and `metadata` is checked as a Kubernetes ObjectMeta (from Argo's schema).
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { ValidateFunction } from 'ajv';
import { parse } from 'yaml';
import {
  closeObjectSchemas,
  formatAjvErrors,
  type JsonSchema,
  loadArgoSchema,
  newOpenApiAjv,
  objectOrEmpty as obj,
  SHARED_SCHEMAS,
  validateYamlDocuments,
} from './argo.js';

interface Crd {
  spec: { versions: { name: string; schema: { openAPIV3Schema: JsonSchema } }[] };
}

let validator: ValidateFunction | undefined;

function inferenceServiceValidator(): ValidateFunction {
  if (validator !== undefined) return validator;
  const crd = parse(
    readFileSync(join(SHARED_SCHEMAS, 'kserve/inferenceservices.crd.yaml'), 'utf8'),
  ) as Crd;
  const version = crd.spec.versions.find((v) => v.name === 'v1beta1');
  if (version === undefined) throw new Error('InferenceService CRD has no v1beta1 version');
  const schema = structuredClone(version.schema.openAPIV3Schema);
  closeObjectSchemas(schema);
  const argo = loadArgoSchema();
  (schema.properties as Record<string, JsonSchema>).metadata = {
    $ref: 'k8s#/definitions/io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta',
  };
  const ajv = newOpenApiAjv();
  ajv.addKeyword({
    keyword: 'x-kubernetes-int-or-string',
    schemaType: 'boolean',
    errors: false,
    validate: (enabled: boolean, data: unknown) =>
      !enabled || typeof data === 'string' || Number.isInteger(data),
  });
  ajv.addSchema({ definitions: argo.definitions }, 'k8s');
  validator = ajv.compile(schema);
  return validator;
}

/** Errors of an InferenceService object (empty when valid). */
export function validateInferenceServiceObject(isvc: unknown): string[] {
  const errors: string[] = [];
  if (obj(isvc).apiVersion !== 'serving.kserve.io/v1beta1') {
    errors.push('/apiVersion: must be "serving.kserve.io/v1beta1"');
  }
  if (obj(isvc).kind !== 'InferenceService') errors.push('/kind: must be "InferenceService"');
  const validate = inferenceServiceValidator();
  if (!validate(isvc)) errors.push(...formatAjvErrors(validate.errors));
  return errors;
}

/** Errors of a YAML file of InferenceServices. */
export function validateInferenceServiceYaml(text: string): string[] {
  return validateYamlDocuments(text, validateInferenceServiceObject);
}
