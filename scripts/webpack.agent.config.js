// Bundles the `cellflow` CLI (packages/cli, compiled by `tsc -b`) with all its dependencies into
// one ES module file, packages/jupyterlab/build/agent/cellflow-agent.mjs: the agent the JupyterLab
// server extension starts with Node (`node cellflow-agent.mjs agent ...`). The Python package
// carries this file, so an installed extension needs Node and nothing from a checkout.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import webpack from 'webpack';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** @type {import('webpack').Configuration} */
export default {
  name: 'agent',
  target: 'node20',
  mode: 'production',
  entry: resolve(root, 'packages/cli/dist/main.js'),
  experiments: { outputModule: true },
  output: {
    path: resolve(root, 'packages/jupyterlab/build/agent'),
    filename: 'cellflow-agent.mjs',
    module: true,
    chunkFormat: 'module',
    clean: true,
  },
  // `import.meta.url` stays the bundle's own URL at run time (the CLI compares it with argv[1]).
  module: { parser: { javascript: { importMeta: false } } },
  // ws (inside the Kubernetes client) tries these optional native helpers and does without them.
  externals: { bufferutil: 'bufferutil', 'utf-8-validate': 'utf-8-validate' },
  externalsType: 'node-commonjs',
  externalsPresets: { node: true },
  resolve: { extensions: ['.js'], conditionNames: ['node', 'import', 'require', 'default'] },
  devtool: false,
  optimization: { minimize: false },
  performance: { hints: false },
  stats: 'errors-warnings',
  // One file: lazily imported modules are inlined instead of split into chunks.
  plugins: [new webpack.optimize.LimitChunkCountPlugin({ maxChunks: 1 })],
};
