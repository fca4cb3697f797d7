// The time series panel. Grafana's TimeSeriesPanel is application code (not on npm); it draws
// the TimeSeries component (GraphNG over uPlot, with its legend), which @grafana/ui 12.4.10 still
// exports. This replicates the minimum of grafana/grafana v12.4.10
// public/app/plugins/panel/timeseries/TimeSeriesPanel.tsx: prepareGraphableFields and
// getTimezones from its utils.ts, and the TimeSeries element with the panel's legend and options.
// Left out: the plugins drawn inside the plot that only react to the pointer or to editing
// (tooltip, keyboard, zoom, context menu, annotation editor, threshold controls) and exemplars
// and annotations, which these dashboards do not query.
import {
  applyNullInsertThreshold,
  cacheFieldDisplayNames,
  type DataFrame,
  type Field,
  FieldType,
  getDisplayProcessor,
  type GrafanaTheme2,
  nullToValue,
  type TimeRange,
} from '@grafana/data';
import {
  type Options,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';
import { TimeSeries } from '@grafana/ui';
import React from 'react';

import { fieldConfigOf, PanelDataErrorView, type PanelViewProps } from './panel-common';

export function TimeSeriesPanel({ panel, frames, width, height, context }: PanelViewProps) {
  const options = panel.options as Options;
  const graphable = prepareGraphableFields(frames, context.theme, context.timeRange);
  if (!graphable) {
    return (
      <PanelDataErrorView
        frames={frames}
        fieldConfig={fieldConfigOf(panel)}
        needsTimeField={true}
        needsNumberField={true}
      />
    );
  }
  return (
    <TimeSeries
      frames={graphable}
      structureRev={1}
      timeRange={context.timeRange}
      timeZone={getTimezones(options.timezone, context.timeZone)}
      width={width}
      height={height}
      legend={options.legend}
      options={options}
    />
  );
}

/**
 * utils.ts prepareGraphableFields for time-keyed frames: the time field, and number fields whose
 * non-finite values become null (string fields ride along), after inserting nulls where points
 * are missing; each number field then gets its classic-palette index, counted across frames.
 * Boolean and enum fields, which utils.ts converts, fail here: no panel of these dashboards has
 * them.
 */
function prepareGraphableFields(series: DataFrame[], theme: GrafanaTheme2, timeRange: TimeRange): DataFrame[] | null {
  if (!series.length) {
    return null;
  }
  cacheFieldDisplayNames(series);
  const frames: DataFrame[] = [];
  for (const frame of series) {
    const nulledFrame = applyNullInsertThreshold({
      frame,
      refFieldPseudoMin: timeRange.from.valueOf(),
      refFieldPseudoMax: timeRange.to.valueOf(),
    });
    const fields = nullToValue(nulledFrame).fields.flatMap((field) => graphable(field));
    const hasTimeField = fields.some((field) => field.type === FieldType.time);
    const hasValueField = fields.some((field) => field.type === FieldType.number);
    if (hasTimeField && hasValueField) {
      frames.push({ ...frame, length: nulledFrame.length, fields });
    }
  }
  if (!frames.length) {
    return null;
  }
  setClassicPaletteIdxs(frames, theme);
  return frames;
}

/** The field as the graph takes it, or none. */
function graphable(field: Field): Field[] {
  switch (field.type) {
    case FieldType.time:
      if (field.values.length > 0 && typeof field.values[0] !== 'number') {
        throw new Error(`timeseries: time field ${field.name} is not in epoch milliseconds`);
      }
      return [field];
    case FieldType.number:
      return [{ ...field, values: field.values.map((v) => (Number.isFinite(v) || v == null ? v : null)) }];
    case FieldType.string:
      return [{ ...field, values: field.values }];
    case FieldType.boolean:
    case FieldType.enum:
      throw new Error(`timeseries: ${field.type} field ${field.name}: its conversion is not replicated`);
    default:
      return [];
  }
}

/** utils.ts setClassicPaletteIdxs, for frames that are not time-shifted comparisons. */
function setClassicPaletteIdxs(frames: DataFrame[], theme: GrafanaTheme2) {
  let seriesIndex = 0;
  for (const frame of frames) {
    for (const field of frame.fields) {
      if (field.type === FieldType.number) {
        field.state = { ...field.state, seriesIndex: seriesIndex++ };
        field.display = getDisplayProcessor({ field, theme });
      }
    }
  }
}

/** utils.ts getTimezones: the panel's own zones, else the dashboard's. */
function getTimezones(timezones: string[] | undefined, defaultTimezone: string): string[] {
  if (!timezones || !timezones.length) {
    return [defaultTimezone];
  }
  return timezones.map((v) => (v?.length ? v : defaultTimezone));
}
