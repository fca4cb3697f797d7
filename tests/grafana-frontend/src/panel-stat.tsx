// The stat panel. Grafana's StatPanel is application code (not on npm): this is its render
// function, from grafana/grafana v12.4.10 public/app/plugins/panel/stat/StatPanel.tsx, over
// @grafana/ui's VizRepeater and BigValue and @grafana/data's getFieldDisplayValues. Left out:
// the sparkline's time range (graphMode "none" everywhere here draws none) and the streaming
// branch of getValues that computes each number field's range when applyFieldOverrides has
// not (it always has here: checkRanges fails otherwise).
import {
  type DisplayValueAlignmentFactors,
  type FieldDisplay,
  FieldType,
  getDisplayValueAlignmentFactors,
  getFieldDisplayValues,
  type DataFrame,
} from '@grafana/data';
import { BigValueGraphMode, BigValueTextMode } from '@grafana/schema';
import {
  defaultOptions,
  type Options,
} from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import {
  BigValue,
  DataLinksContextMenu,
  type DataLinksContextMenuApi,
  VizRepeater,
  type VizRepeaterRenderValueProps,
} from '@grafana/ui';
import React, { type JSX } from 'react';

import { fieldConfigOf, panelData, type PanelViewProps } from './panel-common';

export function StatPanel({ panel, frames, width, height, context }: PanelViewProps) {
  const options: Options = { ...defaultOptions, ...panel.options } as Options;
  const fieldConfig = fieldConfigOf(panel);
  checkRanges(frames);

  // Auto text mode shows the names too where the panel sets a display name or has no title.
  const textMode =
    options.textMode === BigValueTextMode.Auto && (fieldConfig.defaults.displayName || !panel.title)
      ? BigValueTextMode.ValueAndName
      : options.textMode;

  const renderComponent = (
    valueProps: VizRepeaterRenderValueProps<FieldDisplay, DisplayValueAlignmentFactors>,
    menuProps: DataLinksContextMenuApi
  ): JSX.Element => {
    const { value, alignmentFactors, width, height, count } = valueProps;
    return (
      <BigValue
        value={value.display}
        count={count}
        sparkline={value.sparkline}
        colorMode={options.colorMode!}
        graphMode={options.graphMode!}
        justifyMode={options.justifyMode}
        textMode={textMode}
        alignmentFactors={alignmentFactors}
        text={options.text}
        width={width}
        height={height}
        theme={context.theme}
        onClick={menuProps.openMenu}
        className={menuProps.targetClassName}
        disableWideLayout={!options.wideLayout}
        percentChangeColorMode={options.percentChangeColorMode}
      />
    );
  };

  const renderValue = (valueProps: VizRepeaterRenderValueProps<FieldDisplay, DisplayValueAlignmentFactors>) => {
    const { getLinks, hasLinks } = valueProps.value;
    if (hasLinks && getLinks) {
      return <DataLinksContextMenu links={getLinks}>{(api) => renderComponent(valueProps, api)}</DataLinksContextMenu>;
    }
    return renderComponent(valueProps, {});
  };

  const getValues = (): FieldDisplay[] =>
    getFieldDisplayValues({
      fieldConfig,
      reduceOptions: options.reduceOptions,
      replaceVariables: context.replaceVariables,
      theme: context.theme,
      data: frames,
      sparkline: options.graphMode !== BigValueGraphMode.None,
      percentChange: options.showPercentChange,
      timeZone: context.timeZone,
    });

  return (
    <VizRepeater
      getValues={getValues}
      getAlignmentFactors={getDisplayValueAlignmentFactors}
      renderValue={renderValue}
      width={width}
      height={height}
      source={panelData(frames, context)}
      itemSpacing={3}
      renderCounter={0}
      autoGrid={true}
      orientation={options.orientation!}
    />
  );
}

/** StatPanel computes a number field's range only when the field has none (streaming skips
 * applyFieldOverrides): the frames here come from applyFieldOverrides, which sets it. */
function checkRanges(frames: DataFrame[]) {
  for (const frame of frames) {
    for (const field of frame.fields) {
      if (field.type === FieldType.number && field.state?.range === undefined) {
        throw new Error(`stat: field ${field.name} has no range: the frames did not go through applyFieldOverrides`);
      }
    }
  }
}
