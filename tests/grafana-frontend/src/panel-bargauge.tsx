// The bar gauge panel. Grafana's BarGaugePanel is application code (not on npm): this is its
// render function, from grafana/grafana v12.4.10 public/app/plugins/panel/bargauge/BarGaugePanel.tsx
// (a class there: renderComponent, renderValue, getValues, getItemSpacing, getOrientation,
// calcBarSize, and clearNameForSingleSeries, which drops the name of a lone bar), over
// @grafana/ui's VizLayout, VizRepeater and BarGauge and @grafana/data's getFieldDisplayValues.
// Left out: the legend (BarGaugeLegend, application code): a panel that asks for one fails here
// rather than draw without it.
import {
  type DisplayProcessor,
  type DisplayValue,
  type DisplayValueAlignmentFactors,
  type FieldConfig,
  type FieldDisplay,
  getDisplayValueAlignmentFactors,
  getFieldDisplayValues,
  VizOrientation,
} from '@grafana/data';
import { BarGaugeSizing } from '@grafana/schema';
import {
  defaultOptions,
  type Options,
} from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import {
  BarGauge,
  DataLinksContextMenu,
  type DataLinksContextMenuApi,
  VizLayout,
  VizRepeater,
  type VizRepeaterRenderValueProps,
} from '@grafana/ui';
import React, { type JSX } from 'react';

import { fieldConfigOf, panelData, type PanelViewProps } from './panel-common';

export function BarGaugePanel({ panel, frames, width, height, context }: PanelViewProps) {
  const options: Options = { ...defaultOptions, ...panel.options } as Options;
  const fieldConfig = fieldConfigOf(panel);
  if (options.legend?.showLegend) {
    throw new Error(`bargauge "${panel.title}": its legend (BarGaugeLegend) is not replicated`);
  }

  const renderComponent = (
    valueProps: VizRepeaterRenderValueProps<FieldDisplay, DisplayValueAlignmentFactors>,
    menuProps: DataLinksContextMenuApi
  ): JSX.Element => {
    const { value, alignmentFactors, orientation, width: itemWidth, height: itemHeight, count } = valueProps;
    const { field, display, view, colIndex } = value;
    const spacing = getItemSpacing(options.displayMode);
    // Bars that do not all fit in the panel's height scroll: BarGauge lays itself out for it.
    const isOverflow = (itemHeight + spacing) * count - spacing > height;
    let processor: DisplayProcessor | undefined = undefined;
    if (view && typeof colIndex === 'number') {
      processor = view.getFieldDisplayProcessor(colIndex);
    }
    return (
      <BarGauge
        value={clearNameForSingleSeries(count, fieldConfig.defaults, display)}
        width={itemWidth}
        height={itemHeight}
        orientation={orientation}
        field={field}
        text={options.text}
        display={processor}
        theme={context.theme}
        itemSpacing={spacing}
        displayMode={options.displayMode}
        onClick={menuProps.openMenu}
        className={menuProps.targetClassName}
        alignmentFactors={count > 1 ? alignmentFactors : undefined}
        showUnfilled={options.showUnfilled}
        valueDisplayMode={options.valueMode}
        namePlacement={options.namePlacement}
        isOverflow={isOverflow}
      />
    );
  };

  const renderValue = (valueProps: VizRepeaterRenderValueProps<FieldDisplay, DisplayValueAlignmentFactors>) => {
    const { value, orientation } = valueProps;
    const { hasLinks, getLinks } = value;
    if (hasLinks && getLinks) {
      return (
        <div style={{ width: '100%', display: orientation === VizOrientation.Vertical ? 'flex' : 'initial' }}>
          <DataLinksContextMenu style={{ height: '100%' }} links={getLinks}>
            {(api) => renderComponent(valueProps, api)}
          </DataLinksContextMenu>
        </div>
      );
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
      timeZone: context.timeZone,
    });

  const { minVizWidth, minVizHeight, maxVizHeight } = calcBarSize(
    options,
    getOrientation(options.orientation!, width, height)
  );

  return (
    <VizLayout width={width} height={height} legend={null}>
      {(vizWidth: number, vizHeight: number) => (
        <VizRepeater
          source={panelData(frames, context)}
          getAlignmentFactors={getDisplayValueAlignmentFactors}
          getValues={getValues}
          renderValue={renderValue}
          renderCounter={0}
          width={vizWidth}
          height={vizHeight}
          maxVizHeight={maxVizHeight}
          minVizWidth={minVizWidth}
          minVizHeight={minVizHeight}
          itemSpacing={getItemSpacing(options.displayMode)}
          orientation={options.orientation!}
        />
      )}
    </VizLayout>
  );
}

/** A lone bar shows no name, unless the panel sets a display name. */
function clearNameForSingleSeries(count: number, field: FieldConfig, display: DisplayValue): DisplayValue {
  if (count === 1 && !field.displayName) {
    return { ...display, title: undefined };
  }
  return display;
}

function getItemSpacing(displayMode: Options['displayMode']): number {
  return displayMode === 'lcd' ? 2 : 10;
}

function getOrientation(orientation: VizOrientation, width: number, height: number): VizOrientation {
  if (orientation === VizOrientation.Auto) {
    return width > height ? VizOrientation.Vertical : VizOrientation.Horizontal;
  }
  return orientation;
}

function calcBarSize(options: Options, orientation: VizOrientation) {
  const isManualSizing = options.sizing === BarGaugeSizing.Manual;
  const isVertical = orientation === VizOrientation.Vertical;
  const isHorizontal = orientation === VizOrientation.Horizontal;
  const minVizWidth = isManualSizing && isVertical ? options.minVizWidth : defaultOptions.minVizWidth;
  const minVizHeight = isManualSizing && isHorizontal ? options.minVizHeight : defaultOptions.minVizHeight;
  const maxVizHeight = isManualSizing && isHorizontal ? options.maxVizHeight : defaultOptions.maxVizHeight;
  return { minVizWidth, minVizHeight, maxVizHeight };
}
