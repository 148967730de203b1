/**
 * Request and response bodies of the KFP double checked against KFP's own v2beta1 swagger
 * (../shared/schemas/kfp/v2beta1.swagger.json). Objects are closed: KFP's gateway would drop an
 * unknown (typo'd) field silently, the double names it. Field names are the swagger's snake_case.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Ajv, ValidateFunction } from 'ajv';
import {
  closeObjectSchemas,
  formatAjvErrors,
  type JsonSchema,
  newOpenApiAjv,
} from '../../validate/argo.js';
import { SHARED_SCHEMAS } from '../paths.js';

export type KfpDefinition =
  | 'v2beta1Run'
  | 'v2beta1Experiment'
  | 'v2beta1Filter'
  | 'v2beta1ListRunsResponse'
  | 'v2beta1ListExperimentsResponse'
  | 'v2beta1GetHealthzResponse'
  | 'v2beta1Pipeline'
  | 'v2beta1PipelineVersion'
  | 'v2beta1ListPipelinesResponse'
  | 'v2beta1ListPipelineVersionsResponse'
  | 'v2beta1RecurringRun'
  | 'v2beta1ListRecurringRunsResponse'
  | 'googleRpcStatus';

let ajv: Ajv | undefined;
const validators = new Map<KfpDefinition, ValidateFunction>();

export function kfpSwagger(): { definitions: Record<string, JsonSchema> } {
  return JSON.parse(readFileSync(join(SHARED_SCHEMAS, 'kfp/v2beta1.swagger.json'), 'utf8')) as {
    definitions: Record<string, JsonSchema>;
  };
}

function validator(definition: KfpDefinition): ValidateFunction {
  let v = validators.get(definition);
  if (v !== undefined) return v;
  if (ajv === undefined) {
    ajv = newOpenApiAjv();
    // int64 values travel as strings in JSON (protojson), instead of the OpenAPI number format.
    ajv.addFormat('int64', { type: 'string', validate: (s: string) => /^-?\d+$/.test(s) });
    const swagger = kfpSwagger();
    for (const def of Object.values(swagger.definitions)) closeObjectSchemas(def);
    ajv.addSchema({ definitions: swagger.definitions }, 'kfp');
  }
  v = ajv.compile({ $ref: `kfp#/definitions/${definition}` });
  validators.set(definition, v);
  return v;
}

/** Readable errors of `body` against a swagger definition (empty when valid). */
export function validateKfpBody(definition: KfpDefinition, body: unknown): string[] {
  const validate = validator(definition);
  return validate(body) ? [] : formatAjvErrors(validate.errors);
}
