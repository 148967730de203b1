// Bundles the VS Code extension host code (packages/vscode, compiled by `tsc -b`) into
// dist/extension.js (CommonJS, as VS Code loads it). `@cellflow/backend` is imported lazily and
// lands in its own chunk, so activation only loads core and the editor glue.
import { dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = dirname(fileURLToPath(import.meta.url));

/** The root package is an ES module package; dist/package.json makes its .js files CommonJS. */
class CommonJsMarkerPlugin {
  apply(compiler) {
    compiler.hooks.thisCompilation.tap('CommonJsMarkerPlugin', (compilation) => {
      compilation.hooks.processAssets.tap(
        {
          name: 'CommonJsMarkerPlugin',
          stage: compiler.webpack.Compilation.PROCESS_ASSETS_STAGE_ADDITIONAL,
        },
        () => {
          compilation.emitAsset(
            'package.json',
            new compiler.webpack.sources.RawSource('{ "type": "commonjs" }\n'),
          );
        },
      );
    });
  }
}

/** @type {import('webpack').Configuration} */
const extension = {
  name: 'extension',
  target: 'node20',
  mode: 'production',
  entry: { extension: resolve(root, 'packages/vscode/dist/extension.js') },
  output: {
    path: resolve(root, 'dist'),
    filename: '[name].js',
    chunkFilename: 'chunks/[name].js',
    // commonjs-static: `exports.activate = ...` lines Node can see when VS Code import()s the bundle
    // (the manifest is an ES module package), and plain CommonJS when it require()s it.
    library: { type: 'commonjs-static' },
    clean: { keep: /^webview\// },
  },
  // ws (inside the Kubernetes client) tries these optional native helpers and does without them.
  externals: {
    vscode: 'commonjs vscode',
    bufferutil: 'commonjs bufferutil',
    'utf-8-validate': 'commonjs utf-8-validate',
  },
  externalsPresets: { node: true },
  resolve: { extensions: ['.js'], conditionNames: ['node', 'import', 'require', 'default'] },
  devtool: 'nosources-source-map',
  optimization: { minimize: false },
  performance: { hints: false },
  plugins: [new CommonJsMarkerPlugin()],
};

/** Webview scripts (browser) from packages/ui, into dist/webview/: the graph, and the other views. */
/** @type {import('webpack').Configuration} */
const webviews = {
  name: 'webviews',
  target: 'web',
  mode: 'production',
  entry: {
    graph: resolve(root, 'packages/ui/dist/webview/vscode-graph-webview.js'),
    views: resolve(root, 'packages/ui/dist/webview/vscode-view-webview.js'),
  },
  output: { path: resolve(root, 'dist/webview'), filename: '[name].js', clean: true },
  resolve: { extensions: ['.js'], conditionNames: ['browser', 'import', 'default'] },
  devtool: false,
  performance: { hints: false },
};

export default [extension, webviews];
