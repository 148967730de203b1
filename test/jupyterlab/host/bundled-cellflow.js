// The development page's bundled plugins: Cellflow from this checkout (skipped when a prebuilt
// cellflow-jupyterlab is installed).
export const extensions = [
  { name: 'cellflow-jupyterlab', load: () => import('cellflow-jupyterlab') },
];
