// Small replicas of Grafana's application code (grafana/grafana v12.4.10, public/app/..., not on
// npm) that fill @grafana/data's registries and describe the panel plugins the dashboards use, as
// the Grafana app does at boot. Editors (React components of the options pane) are left out: no
// option is edited here. checkReplicas() fails when the pinned packages change under a replica.
import {
  booleanOverrideProcessor,
  DataTransformerID,
  dataLinksOverrideProcessor,
  displayNameOverrideProcessor,
  FieldColorModeId,
  FieldConfigEditorBuilder,
  FieldConfigProperty,
  FieldType,
  identityOverrideProcessor,
  numberOverrideProcessor,
  PanelPlugin,
  ReducerID,
  standardEditorsRegistry,
  standardFieldConfigEditorRegistry,
  standardTransformers,
  standardTransformersRegistry,
  stringOverrideProcessor,
  thresholdsOverrideProcessor,
  ThresholdsMode,
  valueMappingsOverrideProcessor,
  type Field,
  type FieldConfigPropertyItem,
  type SetFieldConfigOptionsArgs,
  type StandardEditorsRegistryItem,
  type TransformerRegistryItem,
} from '@grafana/data';
import {
  BarAlignment,
  defaultReduceDataOptions,
  defaultTableFieldOptions,
  defaultTableOptions,
  GraphDrawStyle,
  GraphGradientMode,
  GraphThresholdsStyleMode,
  LineInterpolation,
  StackingMode,
  VizOrientation,
} from '@grafana/schema';
import { commonOptionsBuilder, getGraphFieldOptions } from '@grafana/ui';
import { defaultOptions as barGaugeDefaults } from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import { defaultOptions as statDefaults } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';

const NO_EDITOR = () => null;

// public/app/core/components/OptionsUI/registry.tsx getAllOptionEditors: the editors' ids, which
// the options builders look up.
const OPTION_EDITORS = [
  'text',
  'number',
  'slider',
  'boolean',
  'radio',
  'select',
  'unit',
  'links',
  'actions',
  'stats-picker',
  'strings',
  'timezone',
  'fieldColor',
  'color',
  'multi-select',
  'field-name',
  'dashboard-uid',
  'mappings',
  'thresholds',
];

function optionEditors(): StandardEditorsRegistryItem[] {
  return OPTION_EDITORS.map((id) => ({ id, name: id, editor: NO_EDITOR }));
}

// public/app/core/components/OptionsUI/registry.tsx getAllStandardFieldConfigs.
function standardFieldConfigs(): FieldConfigPropertyItem[] {
  const base = { editor: NO_EDITOR, override: NO_EDITOR, category: ['Standard options'] };
  const links = { ...base, category: ['Data links and actions'], shouldApply: () => true };
  const numbers = (field: { type: FieldType }) => field.type === FieldType.number;
  return [
    { ...base, id: 'unit', path: 'unit', name: 'Unit', process: stringOverrideProcessor, shouldApply: () => true },
    { ...base, id: 'min', path: 'min', name: 'Min', process: numberOverrideProcessor, shouldApply: numbers },
    { ...base, id: 'max', path: 'max', name: 'Max', process: numberOverrideProcessor, shouldApply: numbers },
    {
      ...base,
      id: 'fieldMinMax',
      path: 'fieldMinMax',
      name: 'Field min/max',
      process: booleanOverrideProcessor,
      shouldApply: numbers,
    },
    { ...base, id: 'decimals', path: 'decimals', name: 'Decimals', process: numberOverrideProcessor, shouldApply: numbers },
    {
      ...base,
      id: 'displayName',
      path: 'displayName',
      name: 'Display name',
      process: displayNameOverrideProcessor,
      settings: { placeholder: 'none', expandTemplateVars: true },
      shouldApply: () => true,
    },
    {
      ...base,
      id: 'color',
      path: 'color',
      name: 'Color scheme',
      process: identityOverrideProcessor,
      settings: { byValueSupport: true, preferThresholdsMode: true },
      shouldApply: () => true,
    },
    { ...base, id: 'noValue', path: 'noValue', name: 'No value', process: stringOverrideProcessor, shouldApply: () => true },
    { ...links, id: 'links', path: 'links', name: 'Data links', process: dataLinksOverrideProcessor },
    // actionsOverrideProcessor (value => value) is not exported: the identity processor is the same.
    { ...links, id: 'actions', path: 'actions', name: 'Actions', process: identityOverrideProcessor, hideFromDefaults: true },
    {
      ...base,
      id: 'mappings',
      path: 'mappings',
      name: 'Value mappings',
      category: ['Value mappings'],
      process: valueMappingsOverrideProcessor,
      defaultValue: [],
      shouldApply: (field) => field.type !== FieldType.time,
    },
    {
      ...base,
      id: 'thresholds',
      path: 'thresholds',
      name: 'Thresholds',
      category: ['Thresholds'],
      process: thresholdsOverrideProcessor,
      defaultValue: {
        mode: ThresholdsMode.Absolute,
        steps: [
          { value: -Infinity, color: 'green' },
          { value: 80, color: 'red' },
        ],
      },
      shouldApply: () => true,
    },
    {
      ...base,
      id: 'filterable',
      path: 'filterable',
      name: 'Ad-hoc filterable',
      process: booleanOverrideProcessor,
      hideFromDefaults: true,
      shouldApply: () => true,
    },
  ];
}

// public/app/features/transformers/standardTransformers.ts getStandardTransformers: the items
// whose transformer @grafana/data holds (the others are application code, and no dashboard
// here uses them: a transformation with an id outside this list is an error).
const TRANSFORMERS = [
  standardTransformers.reduceTransformer,
  standardTransformers.filterFieldsByNameTransformer,
  standardTransformers.renameByRegexTransformer,
  standardTransformers.filterFramesByRefIdTransformer,
  standardTransformers.filterByValueTransformer,
  standardTransformers.organizeFieldsTransformer,
  standardTransformers.joinByFieldTransformer,
  standardTransformers.seriesToRowsTransformer,
  standardTransformers.concatenateTransformer,
  standardTransformers.calculateFieldTransformer,
  standardTransformers.labelsToFieldsTransformer,
  standardTransformers.groupByTransformer,
  standardTransformers.sortByTransformer,
  standardTransformers.mergeTransformer,
  standardTransformers.histogramTransformer,
  standardTransformers.convertFieldTypeTransformer,
  standardTransformers.groupingToMatrixTransformer,
  standardTransformers.limitTransformer,
  standardTransformers.formatTimeTransformer,
];

// @grafana/data's transformers that are no item of the app's list: building blocks of the others.
// Also left out: groupToNestedTable, transpose and formatString (behind a feature toggle), which
// no dashboard here uses (one that did would fail: transformations must be registered).
const NOT_REGISTERED = [
  DataTransformerID.noop,
  DataTransformerID.filterFields,
  DataTransformerID.filterFrames,
  DataTransformerID.order,
  DataTransformerID.rename,
  DataTransformerID.ensureColumns,
  DataTransformerID.convertFrameType,
  DataTransformerID.groupToNestedTable,
  DataTransformerID.transpose,
  DataTransformerID.formatString,
];

function transformerItems(): TransformerRegistryItem[] {
  return TRANSFORMERS.map((transformation) => ({
    id: transformation.id,
    aliasIds: transformation.aliasIds,
    name: transformation.name,
    transformation,
    editor: NO_EDITOR,
  }));
}

/** Fills @grafana/data's registries as public/app/app.ts does at boot. */
export function initRegistries(): void {
  standardEditorsRegistry.setInit(optionEditors);
  standardFieldConfigEditorRegistry.setInit(standardFieldConfigs);
  standardTransformersRegistry.setInit(transformerItems);
}

// public/app/plugins/panel/table/addTableCustomConfig.ts (the table plugin's field options).
function tableFieldConfig(builder: FieldConfigEditorBuilder<any>): void {
  builder
    .addNumberInput({ path: 'minWidth', name: 'Minimum column width', defaultValue: defaultTableFieldOptions.minWidth })
    .addNumberInput({ path: 'width', name: 'Column width', defaultValue: defaultTableFieldOptions.width })
    .addRadio({ path: 'align', name: 'Column alignment', defaultValue: defaultTableFieldOptions.align })
    .addBooleanSwitch({ path: 'filterable', name: 'Column filter', defaultValue: defaultTableFieldOptions.filterable })
    .addBooleanSwitch({ path: 'wrapText', name: 'Wrap text' })
    .addBooleanSwitch({ path: 'wrapHeaderText', name: 'Wrap header text' })
    .addBooleanSwitch({ path: 'hideFrom.viz', name: 'Hide in table', defaultValue: undefined, hideFromDefaults: true })
    .addCustomEditor({
      id: 'footer.reducers',
      path: 'footer.reducers',
      name: 'Calculation',
      editor: NO_EDITOR,
      override: NO_EDITOR,
      defaultValue: [],
      process: identityOverrideProcessor,
      shouldApply: () => true,
    })
    .addCustomEditor({
      id: 'cellOptions',
      path: 'cellOptions',
      name: 'Cell type',
      editor: NO_EDITOR,
      override: NO_EDITOR,
      defaultValue: defaultTableFieldOptions.cellOptions,
      process: identityOverrideProcessor,
      shouldApply: () => true,
    })
    .addBooleanSwitch({ path: 'inspect', name: 'Cell value inspect', defaultValue: false })
    .addFieldNamePicker({ path: 'tooltip.field', name: 'Tooltip from field' })
    .addSelect({ path: 'tooltip.placement', name: 'Tooltip placement' })
    .addFieldNamePicker({ path: 'styleField', name: 'Styling from field' });
}

// public/app/plugins/panel/timeseries/config.ts defaultGraphConfig and getGraphFieldConfig: the
// colour option's settings and default, and every custom option (the axis, stacking and
// hide-in-area ones are @grafana/ui's own builders, as there). Its options' choices come from
// @grafana/ui getGraphFieldOptions, whose 12.4.10 release has no showValues option yet.
const defaultGraphConfig = {
  drawStyle: GraphDrawStyle.Line,
  lineInterpolation: LineInterpolation.Linear,
  lineWidth: 1,
  fillOpacity: 0,
  gradientMode: GraphGradientMode.None,
  barAlignment: BarAlignment.Center,
  barWidthFactor: 0.6,
  stacking: { mode: StackingMode.None, group: 'A' },
  axisGridShow: true,
  axisCenteredZero: false,
  axisBorderShow: false,
};

function customEditor(id: string, defaultValue: unknown, shouldApply: (field: Field) => boolean) {
  return { id, path: id, name: id, editor: NO_EDITOR, override: NO_EDITOR, defaultValue, process: identityOverrideProcessor, shouldApply };
}

const notTime = (field: Field) => field.type !== FieldType.time;

const timeseriesFieldConfig: SetFieldConfigOptionsArgs<any> = {
  standardOptions: {
    [FieldConfigProperty.Color]: {
      settings: { byValueSupport: true, bySeriesSupport: true, preferThresholdsMode: false },
      defaultValue: { mode: FieldColorModeId.PaletteClassic },
    },
  },
  useCustomConfig: (builder) => {
    const config = defaultGraphConfig;
    const choices = getGraphFieldOptions();
    const styles = ['Graph styles'];
    builder
      .addRadio({ path: 'drawStyle', name: 'Style', defaultValue: config.drawStyle })
      .addRadio({ path: 'lineInterpolation', name: 'Line interpolation', defaultValue: config.lineInterpolation })
      .addRadio({ path: 'barAlignment', name: 'Bar alignment', defaultValue: config.barAlignment })
      .addSliderInput({ path: 'barWidthFactor', name: 'Bar width factor', defaultValue: config.barWidthFactor })
      .addSliderInput({ path: 'lineWidth', name: 'Line width', defaultValue: config.lineWidth })
      .addSliderInput({ path: 'fillOpacity', name: 'Fill opacity', defaultValue: config.fillOpacity })
      .addRadio({ path: 'gradientMode', name: 'Gradient mode', defaultValue: choices.fillGradient[0].value })
      .addFieldNamePicker({ path: 'fillBelowTo', name: 'Fill below to', hideFromDefaults: true })
      .addCustomEditor(customEditor('lineStyle', undefined, (field) => field.type === FieldType.number))
      .addCustomEditor(customEditor('spanNulls', false, notTime))
      .addCustomEditor(customEditor('insertNulls', false, notTime))
      .addRadio({ path: 'showPoints', name: 'Show points', defaultValue: choices.showPoints[0].value })
      .addSliderInput({ path: 'pointSize', name: 'Point size', defaultValue: 5 });
    commonOptionsBuilder.addStackingConfig(builder, config.stacking, styles);
    builder.addSelect({ path: 'transform', name: 'Transform', hideFromDefaults: true });
    commonOptionsBuilder.addAxisConfig(builder, config);
    commonOptionsBuilder.addHideFrom(builder);
    builder.addCustomEditor(customEditor('thresholdsStyle', { mode: GraphThresholdsStyleMode.Off }, () => true));
  },
};

// The panel options' defaults: @grafana/schema's panelcfg defaults and, for stat and bar gauge,
// public/app/plugins/panel/stat/common.ts addStandardDataReduceOptions and addOrientationOption.
const singleStatDefaults = {
  reduceOptions: { ...defaultReduceDataOptions, values: false, calcs: [ReducerID.lastNotNull], fields: '' },
  orientation: VizOrientation.Auto,
};

/** A panel plugin as far as its data goes: its field options and its options' defaults. */
export interface PanelPluginModel {
  plugin: PanelPlugin;
  defaults: Record<string, unknown>;
}

function plugin(config: SetFieldConfigOptionsArgs<any>, defaults: object): PanelPluginModel {
  return { plugin: new PanelPlugin(NO_EDITOR).useFieldConfig(config), defaults: { ...defaults } };
}

let plugins: Record<string, PanelPluginModel> | undefined;

/** The panel plugins the dashboards use, by panel type (public/app/plugins/panel/<type>/module.tsx). */
export function panelPlugins(): Record<string, PanelPluginModel> {
  plugins ??= {
    stat: plugin({}, { ...statDefaults, ...singleStatDefaults }),
    bargauge: plugin({}, { ...barGaugeDefaults, ...singleStatDefaults }),
    table: plugin({ useCustomConfig: tableFieldConfig }, defaultTableOptions),
    timeseries: plugin(timeseriesFieldConfig, {}),
  };
  return plugins;
}

/** Errors for every replica the pinned packages no longer match; empty when all hold. */
export function checkReplicas(): string[] {
  const errors: string[] = [];
  // Every transformer @grafana/data holds is registered or deliberately not.
  const registered = new Set(standardTransformersRegistry.list().map((item) => item.id));
  for (const transformer of Object.values(standardTransformers)) {
    if (!registered.has(transformer.id) && !NOT_REGISTERED.includes(transformer.id as DataTransformerID)) {
      errors.push(`@grafana/data's transformer ${transformer.id} is neither registered nor left out`);
    }
  }
  const standardIds = standardFieldConfigEditorRegistry.list().map((item) => item.id).sort();
  const packageIds = Object.values(FieldConfigProperty).sort();
  if (JSON.stringify(standardIds) !== JSON.stringify(packageIds)) {
    errors.push(`standard field options ${standardIds} are not @grafana/data's FieldConfigProperty ${packageIds}`);
  }
  // The table's field options with defaults in @grafana/schema are all replicated.
  const table = panelPlugins().table.plugin.fieldConfigRegistry;
  for (const key of Object.keys(defaultTableFieldOptions)) {
    if (!table.getIfExists(`custom.${key}`)) {
      errors.push(`table: @grafana/schema's field option ${key} is not replicated`);
    }
  }
  for (const [type, model] of Object.entries(panelPlugins())) {
    for (const item of model.plugin.fieldConfigRegistry.list()) {
      if (typeof item.process !== 'function') {
        errors.push(`${type}: field option ${item.id} has no processor`);
      }
    }
  }
  return errors;
}
