// A panel's data through Grafana's frontend, as a Grafana 12.4 dashboard runs it: the backend's
// answer decoded (@grafana/runtime toDataQueryResponse), the Prometheus data source's result
// transformer (@grafana/prometheus transformV2), the query runner's pre-processing, the panel's
// transformations (@grafana/data transformDataFrame) and its field config with the plugin's
// defaults (applyFieldOverrides); then what the panel displays from it, read with the panels'
// own functions (getFieldDisplayValues for stat and bar gauge, TableNG's cell colouring).
import {
  applyFieldOverrides,
  cacheFieldDisplayNames,
  dateTime,
  FieldType,
  formattedValueToString,
  getFieldDisplayName,
  getFieldDisplayValues,
  LoadingState,
  preProcessPanelData,
  ThresholdsMode,
  transformDataFrame,
  type DataFrame,
  type DataQueryRequest,
  type DataQueryResponse,
  type DataTransformerConfig,
  type Field,
  type FieldConfigSource,
  type GrafanaTheme2,
  type ThresholdsConfig,
  type TimeRange,
} from '@grafana/data';
import { transformV2 } from '@grafana/prometheus';
import { toDataQueryResponse } from '@grafana/runtime';

// TableNG's own helpers: @grafana/ui does not export them, so they come from the package's file
// (a build error if a release moves them).
import {
  applySort,
  canFieldBeColorized,
  frameToRecords,
  getApplyToRowBgFn,
  getCellColorInlineStylesFactory,
  getCellLinks,
  getCellOptions,
  getDisplayName,
  getVisibleFields,
} from '../node_modules/@grafana/ui/dist/esm/components/Table/TableNG/utils.mjs';

import { checkReplicas, initRegistries, panelPlugins, type PanelPluginModel } from './registries';
import { makeReplaceVariables } from './templating';
import type {
  BackendResponse,
  BoardInput,
  Cell,
  Colour,
  Displayed,
  PanelContext,
  PanelFrames,
  PanelJSON,
  ShownValue,
} from './types';

initRegistries();
// A replica the pinned packages no longer match fails the run (run.mjs reports console errors).
checkReplicas().forEach((error) => console.error(`replica out of date: ${error}`));

/** Every panel but rows, those of collapsed rows included. */
export function panelsOf(dashboard: Record<string, any>): PanelJSON[] {
  return (dashboard.panels as PanelJSON[]).flatMap((panel) =>
    panel.type === 'row' ? ((panel.panels ?? []) as PanelJSON[]) : [panel]
  );
}

/** The dashboard's time range, zone and variables, as its panels see them. */
export function panelContext(board: BoardInput, theme: GrafanaTheme2): PanelContext {
  const timeRange: TimeRange = {
    from: dateTime(board.timeRange.from),
    to: dateTime(board.timeRange.to),
    raw: { from: board.dashboard.time?.from ?? 'now-6h', to: board.dashboard.time?.to ?? 'now' },
  };
  return { theme, timeRange, timeZone: board.timeZone, replaceVariables: makeReplaceVariables(board, timeRange) };
}

function pluginOf(panel: PanelJSON): PanelPluginModel {
  const model = panelPlugins()[panel.type];
  if (!model) {
    throw new Error(`panel ${panel.title}: the ${panel.type} plugin is not replicated (registries.ts)`);
  }
  return model;
}

const isObject = (value: unknown): value is Record<string, any> =>
  typeof value === 'object' && value !== null && !Array.isArray(value);

// Defaults under saved values, as Grafana merges them (lodash mergeWith: objects merge deeply,
// an array replaces).
function withDefaults(defaults: Record<string, any>, saved: Record<string, any>): Record<string, any> {
  const merged: Record<string, any> = structuredClone(defaults);
  for (const [key, value] of Object.entries(saved)) {
    merged[key] = isObject(value) && isObject(merged[key]) ? withDefaults(merged[key], value) : structuredClone(value);
  }
  return merged;
}

/** The panel's options with its plugin's defaults. */
function panelOptions(panel: PanelJSON): Record<string, any> {
  return withDefaults(pluginOf(panel).defaults, panel.options ?? {});
}

// JSON stores the base threshold as null; Grafana reads it as -Infinity.
function fixThresholds(thresholds: ThresholdsConfig): void {
  thresholds.mode ??= ThresholdsMode.Absolute;
  thresholds.steps ??= [];
  if (thresholds.steps.length) {
    thresholds.steps[0].value = -Infinity;
  }
}

/**
 * The panel's field config with the plugin's defaults, as Grafana loads a panel
 * (public/app/features/panel/state/getPanelOptionsWithDefaults.ts applyFieldConfigDefaults).
 * Grafana drops an override property its plugin does not know, silently: here that is an
 * error, since the dashboard would not show what it says.
 */
const fieldConfigs = new WeakMap<PanelJSON, FieldConfigSource>();

function fieldConfigOf(panel: PanelJSON): FieldConfigSource {
  let fieldConfig = fieldConfigs.get(panel);
  if (!fieldConfig) {
    fieldConfig = withPluginDefaults(panel);
    fieldConfigs.set(panel, fieldConfig);
  }
  return fieldConfig;
}

// cleanProperties: a default no option of the plugin reads is dropped (an error here); true when
// ``config`` holds one the plugin knows.
function clean(config: Record<string, any>, path: string, panel: PanelJSON): boolean {
  const registry = pluginOf(panel).plugin.fieldConfigRegistry;
  let found = false;
  for (const [key, value] of Object.entries(config)) {
    if (registry.getIfExists(path + key)) {
      found = true;
    } else if (isObject(value)) {
      if (clean(value, `${path}${key}.`, panel)) {
        found = true;
      } else {
        delete config[key];
      }
    } else {
      console.error(`panel ${panel.title}: ${panel.type} has no field option ${path}${key}: Grafana drops it`);
      delete config[key];
    }
  }
  return found;
}

function withPluginDefaults(panel: PanelJSON): FieldConfigSource {
  const { plugin } = pluginOf(panel);
  const saved = structuredClone(panel.fieldConfig ?? { defaults: {}, overrides: [] });
  const defaults = withDefaults(plugin.fieldConfigDefaults.defaults, saved.defaults ?? {});
  clean(defaults, '', panel);
  if (defaults.thresholds) {
    fixThresholds(defaults.thresholds);
  }
  const overrides = (saved.overrides ?? []).map((override: FieldConfigSource['overrides'][number]) => ({
    ...override,
    properties: override.properties.filter((property) => {
      const known = plugin.fieldConfigRegistry.getIfExists(property.id) !== undefined;
      if (!known) {
        console.error(`panel ${panel.title}: ${panel.type} has no field option ${property.id}: Grafana drops it`);
      }
      if (known && property.id === 'thresholds') {
        fixThresholds(property.value);
      }
      return known;
    }),
  }));
  return { defaults, overrides: overrides.filter((override) => override.properties.length > 0) };
}

function datasourceType(panel: PanelJSON): string {
  const types = new Set<string>(panel.targets.map((t: any) => (t.datasource ?? panel.datasource).type));
  if (types.size !== 1) {
    throw new Error(`panel ${panel.title}: one data source per panel, not ${[...types]}`);
  }
  return [...types][0];
}

// The query runner's request, as far as the data source's result transformer reads it.
function request(panel: PanelJSON, context: PanelContext): DataQueryRequest {
  return {
    app: 'dashboard',
    requestId: String(panel.id),
    panelId: panel.id,
    targets: panel.targets,
    range: context.timeRange,
    timezone: context.timeZone,
    interval: '',
    intervalMs: 0,
    scopedVars: {},
    startTime: context.timeRange.to.valueOf(),
  } as DataQueryRequest;
}

/** What the data source's query() answers: decoded, and for Prometheus transformed. */
function datasourceAnswer(panel: PanelJSON, response: BackendResponse, context: PanelContext): DataQueryResponse {
  const answer = toDataQueryResponse({ data: response }, panel.targets);
  for (const error of answer.errors ?? []) {
    console.error(`panel ${panel.title}, query ${error.refId}: ${error.message}`);
  }
  return datasourceType(panel) === 'prometheus'
    ? transformV2(answer, request(panel, context), { exemplarTraceIdDestinations: [] })
    : answer;
}

// transformDataFrame is an observable; the dashboards' transformations answer at once.
function transform(configs: DataTransformerConfig[], frames: DataFrame[], context: PanelContext): DataFrame[] {
  let result: DataFrame[] | undefined;
  transformDataFrame(configs, frames, { interpolate: (value) => context.replaceVariables(value) }).subscribe({
    next: (value) => (result = value),
    error: (error) => console.error(error),
  });
  if (result === undefined) {
    throw new Error(`transformations ${configs.map((c) => c.id)} gave no frames at once`);
  }
  return result;
}

/** The frames the panel receives (its data.series). */
export function panelData(panel: PanelJSON, response: BackendResponse | undefined, context: PanelContext): PanelFrames {
  if (!response) {
    throw new Error(`panel ${panel.title}: no backend response`);
  }
  const answer = datasourceAnswer(panel, response, context);
  const series = preProcessPanelData({ series: answer.data, state: LoadingState.Done, timeRange: context.timeRange })
    .series;
  const transformed = transform(panel.transformations ?? [], series, context);
  return applyFieldOverrides({
    data: transformed,
    fieldConfig: fieldConfigOf(panel),
    fieldConfigRegistry: pluginOf(panel).plugin.fieldConfigRegistry,
    replaceVariables: context.replaceVariables,
    theme: context.theme,
    timeZone: context.timeZone,
  });
}

const names = new WeakMap<GrafanaTheme2, Map<string, string>>();

let canvas: CanvasRenderingContext2D | null | undefined;

// A CSS colour in the browser's canonical form (#rrggbb, or rgba() when translucent), so that
// "#CCCCDC" and "rgb(204, 204, 220)" compare equal; what is no colour (a gradient) stays as is.
function normalise(css: string): string {
  canvas ??= document.createElement('canvas').getContext('2d');
  if (!canvas) {
    return css;
  }
  const read = (sentinel: string) => {
    canvas!.fillStyle = sentinel;
    canvas!.fillStyle = css;
    return canvas!.fillStyle;
  };
  const first = read('#000000');
  return first === read('#ffffff') ? first : css;
}

// The theme's colour names by CSS value: a hue's primary shade first, then its other shades.
function colourNames(theme: GrafanaTheme2): Map<string, string> {
  let found = names.get(theme);
  if (!found) {
    found = new Map();
    const shades = theme.visualization.hues.flatMap((hue) =>
      [...hue.shades].sort((a, b) => Number(Boolean(b.primary)) - Number(Boolean(a.primary)))
    );
    for (const name of [...shades.map((shade) => shade.name), 'transparent', 'text']) {
      const css = normalise(theme.visualization.getColorByName(name));
      if (!found.has(css)) {
        found.set(css, name);
      }
    }
    names.set(theme, found);
  }
  return found;
}

/** A colour by its Grafana name when it has one, its CSS otherwise. */
function colour(theme: GrafanaTheme2, css: string | undefined): Colour | undefined {
  return css === undefined ? undefined : (colourNames(theme).get(normalise(css)) ?? css);
}

function stats(panel: PanelJSON, frames: DataFrame[], context: PanelContext): ShownValue[] {
  const values = getFieldDisplayValues({
    fieldConfig: fieldConfigOf(panel),
    reduceOptions: panelOptions(panel).reduceOptions,
    replaceVariables: context.replaceVariables,
    theme: context.theme,
    data: frames,
    timeZone: context.timeZone,
  });
  return values.map(({ display }) => ({
    title: display.title ?? '',
    text: formattedValueToString(display),
    color: colour(context.theme, display.color) ?? '',
  }));
}

// TablePanel: the frame the options select (frameIndex), the first otherwise.
function tableFrame(frames: DataFrame[], options: Record<string, any>): DataFrame | undefined {
  const index = options.frameIndex > 0 && options.frameIndex < frames.length ? options.frameIndex : 0;
  const frame = frames[index];
  return frame && frame.fields.length > 0 ? frame : undefined;
}

// TableNG: rows sorted as options.sortBy asks; each visible cell's text, its colours (the row's
// background from an applyToRow field, then the cell's own), and its first link.
function table(panel: PanelJSON, frames: DataFrame[], context: PanelContext): Displayed {
  const options = panelOptions(panel);
  // TablePanel names every field before TableNG reads the names (cacheFieldDisplayNames).
  cacheFieldDisplayNames(frames);
  const frame = tableFrame(frames, options);
  if (!frame) {
    return { type: 'table', columns: [], rows: [] };
  }
  const visible: Field[] = getVisibleFields(frame.fields);
  const cellStyles = getCellColorInlineStylesFactory(context.theme);
  const rowBackground = getApplyToRowBgFn(frame.fields, cellStyles);
  const sortColumns = (options.sortBy ?? []).flatMap(({ displayName, desc }: { displayName: string; desc?: boolean }) =>
    frame.fields.some((field) => getDisplayName(field) === displayName)
      ? [{ columnKey: displayName, direction: desc ? 'DESC' : 'ASC' }]
      : []
  );
  const rows = applySort(frameToRecords(frame), frame.fields, sortColumns);
  return {
    type: 'table',
    columns: visible.map((field) => getDisplayName(field)),
    rows: rows.map((row: { __index: number }) =>
      visible.map((field) => tableCell(field, row.__index, rowBackground, cellStyles, context.theme))
    ),
  };
}

function tableCell(
  field: Field,
  rowIndex: number,
  rowBackground: ((rowIndex: number) => Record<string, string>) | undefined,
  cellStyles: (options: unknown, display: unknown, applyToRow: boolean) => Record<string, string>,
  theme: GrafanaTheme2
): Cell {
  const display = field.display!(field.values[rowIndex]);
  const cellOptions = getCellOptions(field);
  const style = {
    ...(rowBackground?.(rowIndex) ?? {}),
    ...(canFieldBeColorized(cellOptions.type, rowBackground) ? cellStyles(cellOptions, display, rowBackground != null) : {}),
  };
  const cell: Cell = { text: formattedValueToString(display) };
  const color = colour(theme, style.color);
  const background = colour(theme, style.background);
  const link = getCellLinks(field, rowIndex)?.[0]?.href;
  return {
    ...cell,
    ...(color !== undefined && { color }),
    ...(background !== undefined && { background }),
    ...(link !== undefined && { link }),
  };
}

// The series a time series draws: each number field, its name, its last value and colour.
function series(frames: DataFrame[], context: PanelContext): Displayed {
  const drawn = frames.flatMap((frame) =>
    frame.fields
      .filter((field) => field.type === FieldType.number && !field.config.custom?.hideFrom?.viz)
      .map((field) => {
        const last = field.values[field.values.length - 1];
        const display = field.display!(last);
        return {
          name: field.state?.displayName ?? getFieldDisplayName(field, frame, frames),
          last: formattedValueToString(display),
          color: colour(context.theme, display.color) ?? '',
          points: field.values.length,
        };
      })
  );
  return { type: 'timeseries', series: drawn };
}

/** What the panel displays. */
export function displayed(panel: PanelJSON, frames: PanelFrames, context: PanelContext): Displayed {
  switch (panel.type) {
    case 'stat':
    case 'bargauge':
      return { type: panel.type, values: stats(panel, frames, context) };
    case 'table':
      return table(panel, frames, context);
    case 'timeseries':
      return series(frames, context);
    default:
      throw new Error(`panel ${panel.title}: no reading of a ${panel.type} panel`);
  }
}
