import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { parse } from 'yaml';
import { SHARED_SCHEMAS, validateArgoWorkflowObject, validateArgoWorkflowYaml } from './argo.js';

const sample = (name: string): string => readFileSync(join(SHARED_SCHEMAS, 'argo', name), 'utf8');

describe('Argo Workflow validator', () => {
  it('accepts the upstream KFP-compiled workflows', () => {
    assert.deepEqual(validateArgoWorkflowYaml(sample('kfp-compiled-add_numbers.yaml')), []);
    assert.deepEqual(
      validateArgoWorkflowYaml(sample('kfp-compiled-container_with_artifact_output.yaml')),
      [],
    );
  });

  it('reports a typo in a field name with its path', () => {
    const wf = parse(sample('kfp-compiled-add_numbers.yaml'));
    wf.spec.serviceAcountName = wf.spec.serviceAccountName;
    delete wf.spec.serviceAccountName;
    wf.spec.templates[0].container.imagePullPolicey = 'Always';
    assert.deepEqual(validateArgoWorkflowObject(wf), [
      '/spec/serviceAcountName: unknown field "serviceAcountName"',
      '/spec/templates/0/container/imagePullPolicey: unknown field "imagePullPolicey"',
    ]);
  });

  it('accepts numbers for quantities and int-or-string, as Kubernetes does', () => {
    const wf = parse(sample('kfp-compiled-add_numbers.yaml'));
    wf.spec.templates[0].container.resources.limits.cpu = 2;
    wf.spec.templates[0].container.resources.requests['nvidia.com/gpu'] = 1;
    wf.spec.templates[0].retryStrategy = { limit: 3 };
    assert.deepEqual(validateArgoWorkflowObject(wf), []);
  });

  it('rejects wrong types, a wrong kind and a missing spec', () => {
    const errors = validateArgoWorkflowObject({
      apiVersion: 'argoproj.io/v1alpha1',
      kind: 'Workflo',
      metadata: { name: 'x', labels: { a: 1 } },
    });
    assert.ok(
      errors.some((e) => e.startsWith('/kind:')),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => e.includes("must have required property 'spec'")),
      errors.join('\n'),
    );
    assert.ok(
      errors.some((e) => e.startsWith('/metadata/labels/a: must be string')),
      errors.join('\n'),
    );
  });

  it('reports YAML syntax errors', () => {
    assert.match(validateArgoWorkflowYaml('kind: [')[0] ?? '', /YAML/);
  });
});
