// Builds the test JupyterLab page (index.js) into CELLFLOW_LAB_BUILD (default ./build).
// Build.ensureAssets copies each plugin's settings schemas and themes and writes style.js.
const path = require('node:path');
const { Build } = require('@jupyterlab/builder');
const baseConfig = require('@jupyterlab/builder/lib/webpack.config.base');

const repo = path.resolve(__dirname, '../../..');
const output = path.resolve(process.env.CELLFLOW_LAB_BUILD ?? path.join(__dirname, 'build'));
const packageNames = [
  '@jupyterlab/application-extension',
  '@jupyterlab/apputils-extension',
  '@jupyterlab/codemirror-extension',
  '@jupyterlab/completer-extension',
  '@jupyterlab/docmanager-extension',
  '@jupyterlab/documentsearch-extension',
  '@jupyterlab/filebrowser-extension',
  '@jupyterlab/mainmenu-extension',
  '@jupyterlab/markedparser-extension',
  '@jupyterlab/metadataform-extension',
  '@jupyterlab/notebook-extension',
  '@jupyterlab/rendermime-extension',
  '@jupyterlab/shortcuts-extension',
  '@jupyterlab/theme-light-extension',
  '@jupyterlab/toc-extension',
  '@jupyterlab/translation-extension',
  '@jupyterlab/ui-components-extension',
];
const themeConfigs = Build.ensureAssets({
  packageNames,
  packagePaths: [path.join(repo, 'packages/jupyterlab')],
  output,
});

module.exports = [
  {
    ...baseConfig,
    mode: 'development',
    devtool: false,
    entry: path.join(__dirname, 'index.js'),
    context: __dirname,
    output: { path: output, filename: 'bundle.js', publicPath: 'auto' },
    resolve: {
      ...baseConfig.resolve,
      modules: ['node_modules', path.join(repo, 'node_modules')],
      alias: { 'cellflow-test-lab-style': path.join(output, 'style.js') },
      fallback: {
        ...baseConfig.resolve?.fallback,
        path: false,
        fs: false,
        url: false,
        util: false,
      },
    },
    cache: process.env.CELLFLOW_WEBPACK_CACHE
      ? { type: 'filesystem', cacheDirectory: process.env.CELLFLOW_WEBPACK_CACHE }
      : false,
    performance: { hints: false },
    stats: 'errors-warnings',
    bail: true,
  },
  ...themeConfigs.map((c) => ({ ...c, stats: 'errors-warnings' })),
];
