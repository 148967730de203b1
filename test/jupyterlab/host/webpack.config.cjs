// Builds the test JupyterLab page (bootstrap.js, index.js) into CELLFLOW_LAB_BUILD (default
// ./build). Build.ensureAssets copies each plugin's settings schemas and themes and writes
// style.js. The page is a module-federation host sharing JupyterLab's singletons, as JupyterLab's
// own build is, so prebuilt extensions load into it. CELLFLOW_LAB_PAGE=host builds the page without
// the Cellflow plugin from this checkout (it then comes only as a prebuilt extension).
const path = require('node:path');
const { Build } = require('@jupyterlab/builder');
const baseConfig = require('@jupyterlab/builder/lib/webpack.config.base');
const { ModuleFederationPlugin } = require('webpack').container;

const repo = path.resolve(__dirname, '../../..');
const { singletonPackages } = require(
  path.join(repo, 'packages/jupyterlab/scripts/jupyterlab-core.cjs'),
);
const output = path.resolve(process.env.CELLFLOW_LAB_BUILD ?? path.join(__dirname, 'build'));
const hostOnly = process.env.CELLFLOW_LAB_PAGE === 'host';
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
  packagePaths: hostOnly ? [] : [path.join(repo, 'packages/jupyterlab')],
  output,
});

module.exports = [
  {
    ...baseConfig,
    mode: 'development',
    devtool: false,
    entry: path.join(__dirname, 'bootstrap.js'),
    context: __dirname,
    output: { path: output, filename: 'bundle.js', publicPath: 'auto' },
    resolve: {
      ...baseConfig.resolve,
      modules: ['node_modules', path.join(repo, 'node_modules')],
      alias: {
        'cellflow-test-lab-style': path.join(output, 'style.js'),
        'cellflow-test-lab-bundled': path.join(
          __dirname,
          hostOnly ? 'bundled-none.js' : 'bundled-cellflow.js',
        ),
      },
      fallback: {
        ...baseConfig.resolve?.fallback,
        path: false,
        fs: false,
        url: false,
        util: false,
      },
    },
    cache: process.env.CELLFLOW_WEBPACK_CACHE
      ? {
          type: 'filesystem',
          cacheDirectory: process.env.CELLFLOW_WEBPACK_CACHE,
          name: hostOnly ? 'host' : 'development',
        }
      : false,
    performance: { hints: false },
    stats: 'errors-warnings',
    bail: true,
    plugins: [
      ...(baseConfig.plugins ?? []),
      new ModuleFederationPlugin({
        library: { type: 'var', name: ['_JUPYTERLAB', 'CORE_LIBRARY_FEDERATION'] },
        name: 'CORE_FEDERATION',
        shared: Object.fromEntries(
          singletonPackages(repo).map((name) => [
            name,
            { singleton: true, requiredVersion: false },
          ]),
        ),
      }),
    ],
  },
  ...themeConfigs.map((c) => ({ ...c, stats: 'errors-warnings' })),
];
