import { LabIcon } from '@jupyterlab/ui-components';

/** The Cellflow mark (three boxes joined as a pipeline), coloured by the theme. */
export const cellflowIcon = new LabIcon({
  name: 'cellflow:logo',
  svgstr:
    '<svg xmlns="http://www.w3.org/2000/svg" width="16" height="16" viewBox="0 0 24 24" fill="none" stroke-width="1.6" stroke-linecap="round" stroke-linejoin="round"><g class="jp-icon3" stroke="#616161"><rect x="2.5" y="3" width="7" height="5" rx="1"/><rect x="14.5" y="3" width="7" height="5" rx="1"/><rect x="8.5" y="16" width="7" height="5" rx="1"/><path d="M6 8v3.5h12V8M12 11.5V16"/></g></svg>',
});
