// The host-only page's bundled plugins: none; Cellflow comes as a prebuilt extension.
export const extensions = [];
