/**
 * Node objects for the test cluster: what the NVIDIA / AMD device plugins and GPU feature discovery
 * put on real nodes (extended-resource capacity and product labels). All nodes point their kubelet
 * endpoint at the stand-in kubelet on 127.0.0.1.
 */
import { type KubeClient, type KubeObject, RESOURCES, resourcePath } from './kube-client.js';

export interface TestNode {
  name: string;
  cpu: string;
  memory: string;
  /** Extended resources, e.g. `{ 'nvidia.com/gpu': '8' }`. */
  extended?: Record<string, string>;
  labels?: Record<string, string>;
}

export const DEFAULT_NODES: readonly TestNode[] = [
  { name: 'cpu-node-0', cpu: '8', memory: '32Gi' },
  {
    name: 'gpu-a100-node-0',
    cpu: '64',
    memory: '512Gi',
    extended: { 'nvidia.com/gpu': '8' },
    labels: {
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.product': 'NVIDIA-A100-SXM4-80GB',
      'nvidia.com/gpu.count': '8',
      'nvidia.com/gpu.memory': '81920',
    },
  },
  {
    name: 'gpu-t4-node-0',
    cpu: '16',
    memory: '64Gi',
    extended: { 'nvidia.com/gpu': '1' },
    labels: {
      'nvidia.com/gpu.present': 'true',
      'nvidia.com/gpu.product': 'Tesla-T4',
      'nvidia.com/gpu.count': '1',
      'nvidia.com/gpu.memory': '15360',
    },
  },
  {
    name: 'gpu-mi250-node-0',
    cpu: '64',
    memory: '512Gi',
    extended: { 'amd.com/gpu': '4' },
    labels: {
      'amd.com/gpu.family': 'AI',
      'amd.com/gpu.product-name': 'AMD_Instinct_MI250X',
      'amd.com/gpu.count': '4',
    },
  },
];

export function buildNodeObject(node: TestNode, kubeletPort: number): KubeObject {
  const resources = { cpu: node.cpu, memory: node.memory, pods: '110', ...node.extended };
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: node.name,
      labels: {
        'kubernetes.io/hostname': node.name,
        'kubernetes.io/os': 'linux',
        'kubernetes.io/arch': 'amd64',
        ...node.labels,
      },
    },
    spec: {},
    status: {
      capacity: resources,
      allocatable: resources,
      addresses: [{ type: 'InternalIP', address: '127.0.0.1' }],
      daemonEndpoints: { kubeletEndpoint: { Port: kubeletPort } },
      conditions: [
        {
          type: 'Ready',
          status: 'True',
          reason: 'KubeletReady',
          message: 'stand-in kubelet is posting ready status',
          lastHeartbeatTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
          lastTransitionTime: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
        },
      ],
      nodeInfo: {
        architecture: 'amd64',
        operatingSystem: 'linux',
        kubeletVersion: 'v1.20.2',
        kubeProxyVersion: 'v1.20.2',
        containerRuntimeVersion: 'stand-in://0',
        osImage: 'Debian GNU/Linux 12 (bookworm)',
        kernelVersion: '',
        machineID: '',
        systemUUID: '',
        bootID: '',
      },
    },
  };
}

/** Creates the nodes and sets their status (capacity, address, kubelet port, Ready). */
export async function createNodes(
  client: KubeClient,
  nodes: readonly TestNode[],
  kubeletPort: number,
): Promise<void> {
  await Promise.all(
    nodes.map(async (node) => {
      const object = buildNodeObject(node, kubeletPort);
      await client.create(resourcePath(RESOURCES.nodes), object);
      // Status is not kept on create for every version; set it the way a kubelet does.
      await client.mergePatch(
        resourcePath(RESOURCES.nodes, { name: node.name, subresource: 'status' }),
        {
          status: object.status,
        },
      );
    }),
  );
}
