// What the page receives from tests/grafana_frontend.py and what it reports back.
import type { DataFrame, GrafanaTheme2, InterpolateFunction, TimeRange } from '@grafana/data';

/** One panel of a classic dashboard JSON, as the generator writes it. */
export type PanelJSON = Record<string, any> & { id: number; type: string; title: string };

/** The JSON body of Grafana's /api/ds/query for one panel's targets: {results: {refId: {status, frames}}}. */
export type BackendResponse = { results: Record<string, { status?: number; frames?: unknown[]; error?: string }> };

/** One dashboard to show, with the backend's answer to each panel's queries (by panel id). */
export interface BoardInput {
  name: string;
  dashboard: Record<string, any>;
  /** Every dashboard variable's selected values, e.g. {site: ['paris'], datasource: ['chat-prometheus']}. */
  variables: Record<string, string[]>;
  /** The dashboard's time range, resolved: Unix milliseconds. */
  timeRange: { from: number; to: number };
  /** IANA zone the browser (and so the dashboard, timezone "browser") is in. */
  timeZone: string;
  responses: Record<string, BackendResponse>;
}

/** What a panel's renderer needs besides its data. */
export interface PanelContext {
  theme: GrafanaTheme2;
  timeRange: TimeRange;
  timeZone: string;
  replaceVariables: InterpolateFunction;
}

/** A colour as the user sees it named: Grafana's colour name when it is one (green, orange,
 * red, blue, transparent, text...), the CSS colour otherwise. */
export type Colour = string;

export interface ShownValue { title: string; text: string; color: Colour }
export interface StatDisplayed { type: 'stat' | 'bargauge'; values: ShownValue[] }
export interface Cell { text: string; color?: Colour; background?: Colour; link?: string }
export interface TableDisplayed { type: 'table'; columns: string[]; rows: Cell[][] }
export interface SeriesDisplayed { type: 'timeseries'; series: Array<{ name: string; last: string; color: Colour; points: number }> }
export type Displayed = StatDisplayed | TableDisplayed | SeriesDisplayed;

/** The frames a panel receives: after the data source, the transformations and the field config. */
export type PanelFrames = DataFrame[];
