// What every panel component receives, and the view Grafana's panels show when their data
// cannot be drawn.
import { css } from '@emotion/css';
import {
  type DataFrame,
  type FieldConfigSource,
  FieldType,
  type GrafanaTheme2,
  LoadingState,
  type PanelData,
} from '@grafana/data';
import { useStyles2 } from '@grafana/ui';
import React from 'react';

import type { PanelContext, PanelJSON } from './types';

export interface PanelViewProps {
  panel: PanelJSON;
  /** data.series: after the data source, the transformations and the field config. */
  frames: DataFrame[];
  width: number;
  height: number;
  context: PanelContext;
}

/** The panel's field config as its JSON has it (the panels read only its defaults). */
export function fieldConfigOf(panel: PanelJSON): FieldConfigSource {
  return { defaults: panel.fieldConfig?.defaults ?? {}, overrides: panel.fieldConfig?.overrides ?? [] };
}

/** The PanelData a panel component would receive: a finished query with these frames. */
export function panelData(frames: DataFrame[], context: PanelContext): PanelData {
  return { state: LoadingState.Done, series: frames, timeRange: context.timeRange, structureRev: 1 };
}

interface ErrorViewProps {
  frames: DataFrame[];
  fieldConfig: FieldConfigSource;
  message?: string;
  needsTimeField?: boolean;
  needsNumberField?: boolean;
}

/**
 * The message and look of Grafana's PanelDataErrorView (grafana/grafana v12.4.10,
 * public/app/features/panel/components/PanelDataErrorView.tsx: getMessageFor and getStyles),
 * without the panel editor's suggestions, which a dashboard never shows.
 */
export function PanelDataErrorView(props: ErrorViewProps) {
  const styles = useStyles2(getErrorViewStyles);
  return (
    <div className={styles.wrapper}>
      <div className={styles.message}>{messageFor(props)}</div>
    </div>
  );
}

function messageFor({ frames, fieldConfig, message, needsTimeField, needsNumberField }: ErrorViewProps): string {
  if (message) {
    return message;
  }
  if (frames.length === 0 || frames.every((frame) => frame.length === 0)) {
    return fieldConfig.defaults.noValue ?? 'No data';
  }
  const types = new Set(frames.flatMap((frame) => frame.fields.map((field) => field.type)));
  if (needsNumberField && !types.has(FieldType.number)) {
    return 'Data is missing a number field';
  }
  if (needsTimeField && !types.has(FieldType.time)) {
    return 'Data is missing a time field';
  }
  return 'Cannot visualize data';
}

function getErrorViewStyles(theme: GrafanaTheme2) {
  return {
    wrapper: css({
      display: 'flex',
      flexDirection: 'column',
      justifyContent: 'center',
      alignItems: 'center',
      height: '100%',
      width: '100%',
    }),
    message: css({
      textAlign: 'center',
      color: theme.colors.text.secondary,
      fontSize: theme.typography.size.lg,
      width: '100%',
    }),
  };
}
