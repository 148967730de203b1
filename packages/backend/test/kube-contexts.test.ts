/** Kubeconfig contexts for the editors' pickers, and a run's page in the KFP UI (no cluster needed). */
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { KubeflowBackend, listKubeContexts } from '@cellflow/backend';

const dir = mkdtempSync(join(tmpdir(), 'cellflow-kubeconfig-'));
const kubeconfig = join(dir, 'config');
writeFileSync(
  kubeconfig,
  `apiVersion: v1
kind: Config
current-context: gpu
clusters:
- name: lab
  cluster: { server: 'https://127.0.0.1:9' }
contexts:
- name: gpu
  context: { cluster: lab, user: me, namespace: team-a }
- name: plain
  context: { cluster: lab, user: me }
users:
- name: me
  user: { token: secret-token-value }
`,
);

describe('kubeconfig contexts and KFP UI links', () => {
  after(() => rmSync(dir, { recursive: true, force: true }));

  it('lists contexts with namespace and the current one, without credentials', async () => {
    const contexts = await listKubeContexts(kubeconfig);
    assert.deepEqual(contexts, [
      { name: 'gpu', cluster: 'lab', namespace: 'team-a', current: true },
      { name: 'plain', cluster: 'lab', namespace: null, current: false },
    ]);
    assert.doesNotMatch(JSON.stringify(contexts), /secret-token-value/);
  });

  it('a missing kubeconfig is a cluster-config error naming the file', async () => {
    await assert.rejects(listKubeContexts(join(dir, 'missing')), (e: Error & { code?: string }) => {
      assert.equal(e.code, 'cluster-config');
      assert.match(e.message, /Cannot read the kubeconfig .*missing/);
      return true;
    });
  });

  it("links a run to the KFP UI beside the endpoint, or through the API server's proxy", async () => {
    const proxied = await KubeflowBackend.connect({ kubeconfig, context: 'plain' });
    // The backend describes its target (issue 15): kind, context and namespace, a run's page.
    assert.deepEqual(
      [proxied.target.kind, proxied.target.context, proxied.target.namespace],
      ['kubeflow', 'plain', 'kubeflow'],
    );
    assert.equal(proxied.target.description, 'cluster context `plain` (namespace kubeflow)');
    assert.equal(proxied.cluster, proxied, 'a Kubeflow backend offers the cluster facet');
    assert.equal(
      proxied.target.runUrl({ id: 'run-1' }),
      'https://127.0.0.1:9/api/v1/namespaces/kubeflow/services/ml-pipeline-ui:80/proxy/#/runs/details/run-1',
    );
    const direct = await KubeflowBackend.connect({
      kubeconfig,
      kfp: { endpoint: 'https://kubeflow.example.com/pipeline/', token: 't' },
    });
    assert.equal(
      direct.target.runUrl({ id: 'run-1' }),
      'https://kubeflow.example.com/pipeline/#/runs/details/run-1',
    );
  });
});
