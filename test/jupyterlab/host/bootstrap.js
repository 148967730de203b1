// The test page's entry, as JupyterLab's own application bootstraps: the page is a module
// federation host; the prebuilt (federated) extensions that jupyterlab_server lists in the page
// config (`federated_extensions`, found in the labextensions folders of the Jupyter data path) are
// loaded from `fullLabextensionsUrl` and joined to the shared scope before any shared module is
// used, then index.js starts the application with them.
import { getOption } from './page-config.js';

// The public path must be set before any CSS asset loads.
// eslint-disable-next-line no-undef
__webpack_public_path__ = getOption('fullStaticUrl') + '/';

function loadScript(url) {
  return new Promise((resolve, reject) => {
    const script = document.createElement('script');
    script.onerror = () => reject(new Error(`could not load ${url}`));
    script.onload = resolve;
    script.async = true;
    document.head.appendChild(script);
    script.src = url;
  });
}

async function loadFederatedExtension(data) {
  await loadScript(`${getOption('fullLabextensionsUrl')}/${data.name}/${data.load}`);
  // eslint-disable-next-line no-undef
  await __webpack_init_sharing__('default');
  // eslint-disable-next-line no-undef
  await window._JUPYTERLAB[data.name].init(__webpack_share_scopes__.default);
}

void (async () => {
  const federated = getOption('federated_extensions') || [];
  const loaded = await Promise.allSettled(federated.map(loadFederatedExtension));
  loaded.forEach((result, i) => {
    if (result.status === 'rejected')
      console.error(`federated extension ${federated[i].name}:`, result.reason);
  });
  const { main } = await import('./index.js');
  await main(federated.filter((_, i) => loaded[i].status === 'fulfilled'));
})();
