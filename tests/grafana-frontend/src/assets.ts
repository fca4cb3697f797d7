// What Grafana's server gives its frontend, for a page that has no server.
// - Its assets under its public path: @grafana/ui's global styles load the fonts from
//   <public path>fonts/ and its Icon component fetches each icon's SVG from
//   <public path>build/img/icons/. build.mjs copies the fonts under dist/public/fonts/; the
//   icons, which @grafana/ui publishes in dist/public/img/icons/ but which a page opened from a
//   file cannot fetch, are bundled here and answered from memory.
// - Its boot data's feature toggles: the server lists those enabled by default, and
//   @grafana/ui's getFeatureToggle takes any toggle missing from the list as off.

declare global {
  interface Window {
    __grafana_public_path__?: string;
    grafanaBootData?: { settings: { featureToggles: Record<string, boolean> } };
  }
}

/**
 * The toggles @grafana/ui and @grafana/data 12.4.10 consult, with their defaults in that release
 * (@grafana/data's FeatureToggles, featureToggles.gen.ts): newPanelPadding sets PanelChrome's
 * padding; timeRangePan and newTimeRangeZoomShortcuts only act on the pointer and keyboard.
 * The others they consult (tabularNumbers, localeFormatPreference) are off by default.
 */
const FEATURE_TOGGLES = { newPanelPadding: true, timeRangePan: true, newTimeRangeZoomShortcuts: true };

// esbuild bundles every file a require() with a template literal can name.
declare const require: (path: string) => string;

/** Where build.mjs puts Grafana's public assets, relative to page.html. */
const PUBLIC_PATH = 'dist/public/';
const ICONS = `${PUBLIC_PATH}build/img/icons/`;

// Every icon @grafana/ui publishes (custom/, mono/, solid/, unicons/), bundled as text by
// build.mjs's svg loader; the package's exports do not list them, hence the relative path.
const iconSvg = (path: string): string => require(`../node_modules/@grafana/ui/dist/public/img/icons/${path}`);

function iconResponse(path: string): Response {
  try {
    return new Response(iconSvg(path), { headers: { 'Content-Type': 'image/svg+xml' } });
  } catch {
    console.error(`@grafana/ui publishes no icon ${path}`);
    return new Response('', { status: 404 });
  }
}

/** Sets Grafana's public path, boot data and icon requests; call before the first render. */
export function serveGrafanaAssets() {
  window.__grafana_public_path__ = PUBLIC_PATH;
  const settings = window.grafanaBootData?.settings ?? { featureToggles: {} };
  settings.featureToggles = { ...FEATURE_TOGGLES, ...settings.featureToggles };
  window.grafanaBootData = { ...window.grafanaBootData, settings };
  const fetch = window.fetch.bind(window);
  window.fetch = (input: RequestInfo | URL, init?: RequestInit) => {
    const url = new URL(input instanceof Request ? input.url : String(input), document.baseURI);
    const base = new URL(ICONS, document.baseURI);
    if (url.href.startsWith(base.href)) {
      return Promise.resolve(iconResponse(url.href.slice(base.href.length)));
    }
    return fetch(input, init);
  };
}
