// The table panel. In Grafana 12.4 the table panel always draws @grafana/ui's TableNG: the
// tableNextGen feature toggle that once chose between it and the older table is gone (it is not
// in @grafana/data 12.4.10's FeatureToggles). Grafana's TablePanel is application code (not on
// npm): this is its render function, from grafana/grafana v12.4.10
// public/app/plugins/panel/table/TablePanel.tsx. Left out: cell actions (no field here has
// any), the migration of frames with the deprecated parentRowIndex (Prometheus and PostgreSQL
// frames have none) and what only editing does (resizing and sorting write the panel's JSON).
import { cacheFieldDisplayNames, type DataFrame, getFrameDisplayName } from '@grafana/data';
import { type Options } from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import { Select } from '@grafana/ui';
import { TableNG } from '@grafana/ui/unstable';
import { css } from '@emotion/css';
import React from 'react';

import { fieldConfigOf, PanelDataErrorView, type PanelViewProps } from './panel-common';

export function TablePanel({ panel, frames, width, height, context }: PanelViewProps) {
  const options = panel.options as Options;
  const fieldConfig = fieldConfigOf(panel);
  cacheFieldDisplayNames(frames);
  const count = frames.length;
  const hasFields = frames.some((frame) => frame.fields.length > 0);
  const currentIndex = getCurrentFrameIndex(frames, options);
  const main = frames[currentIndex];

  if (!count || !hasFields) {
    return <PanelDataErrorView frames={frames} fieldConfig={fieldConfig} />;
  }

  let tableHeight = height;
  if (count > 1) {
    const inputHeight = context.theme.spacing.gridSize * context.theme.components.height.md;
    const padding = context.theme.spacing.gridSize;
    tableHeight = height - inputHeight - padding;
  }

  const tableElement = (
    <TableNG
      height={tableHeight}
      width={width}
      data={main}
      noHeader={!options.showHeader}
      showTypeIcons={options.showTypeIcons}
      resizable={true}
      initialSortBy={options.sortBy}
      frozenColumns={options.frozenColumns?.left}
      enablePagination={options.enablePagination}
      cellHeight={options.cellHeight}
      maxRowHeight={options.maxRowHeight}
      timeRange={context.timeRange}
      enableSharedCrosshair={false}
      fieldConfig={fieldConfig}
      structureRev={1}
      transparent={panel.transparent}
      disableSanitizeHtml={false}
      disableKeyboardEvents={options.disableKeyboardEvents}
    />
  );

  if (count === 1) {
    return tableElement;
  }

  const names = frames.map((frame, index) => ({ label: getFrameDisplayName(frame), value: index }));
  return (
    <div className={tableStyles.wrapper}>
      {tableElement}
      <div className={tableStyles.selectWrapper}>
        <Select options={names} value={names[currentIndex]} onChange={() => undefined} />
      </div>
    </div>
  );
}

function getCurrentFrameIndex(frames: DataFrame[], options: Options) {
  return options.frameIndex > 0 && options.frameIndex < frames.length ? options.frameIndex : 0;
}

const tableStyles = {
  wrapper: css({ display: 'flex', flexDirection: 'column', justifyContent: 'space-between', height: '100%' }),
  selectWrapper: css({ padding: '8px 8px 0px 8px' }),
};
