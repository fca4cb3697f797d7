// Grafana's template interpolation, the part the dashboards use: a small replica of
// @grafana/scenes (the dashboards' runtime in Grafana 12; not a dependency here)
// src/variables/interpolation/sceneInterpolator.ts, formatRegistry.ts and the macros of
// src/variables/macros/ (__data, __field, __url_time_range, __from, __to, __timezone), as Grafana
// v12.4.10 bundles them. The value formats are those of @grafana/schema's VariableFormatID.
import {
  getFieldDisplayName,
  getFieldDisplayValuesProxy,
  urlUtil,
  type DataFrame,
  type Field,
  type InterpolateFunction,
  type ScopedVars,
  type TimeRange,
} from '@grafana/data';
import { VariableFormatID } from '@grafana/schema';

import type { BoardInput } from './types';

// Grafana's variable syntax: $name, [[name:format]], ${name.fieldPath:format}.
const VARIABLE = /\$(\w+)|\[\[(\w+?)(?::(\w+))?\]\]|\${(\w+)(?:\.([^:^}]+))?(?::([^}]+))?}/g;
const ALL = '$__all';

/** A value a macro has formatted itself, as scenes' SkipFormattingValue. */
class Preformatted {
  constructor(readonly text: string) {}
}

type Value = string | number | string[] | Preformatted | { toString(): string } | undefined;

interface Variable {
  name: string;
  multi?: boolean;
  includeAll?: boolean;
  allValue?: string;
}

// encodeURIComponent, and the characters it leaves that Grafana also encodes.
const strict = (value: string) =>
  encodeURIComponent(value).replace(/[!'()*]/g, (c) => '%' + c.charCodeAt(0).toString(16).toUpperCase());

const escapeRegex = (value: string) => value.replace(/[\\^$*+?.()|[\]{}\/]/g, '\\$&');

// scenes formatRegistry: each format of a value (a list for a multi-value variable).
const FORMATS: Record<string, (value: string | string[], name: string) => string> = {
  [VariableFormatID.Glob]: (v) => (Array.isArray(v) && v.length > 1 ? `{${v.join(',')}}` : String(v)),
  [VariableFormatID.Raw]: (v) => String(v),
  [VariableFormatID.Text]: (v) => (Array.isArray(v) ? v.join(' + ') : v),
  [VariableFormatID.CSV]: (v) => (Array.isArray(v) ? v.join(',') : v),
  [VariableFormatID.Pipe]: (v) => (Array.isArray(v) ? v.join('|') : v),
  [VariableFormatID.UriEncode]: (v) => strict(Array.isArray(v) ? `{${v.join(',')}}` : v),
  [VariableFormatID.PercentEncode]: (v) => (Array.isArray(v) ? strict(`{${v.join(',')}}`) : strict(v)),
  [VariableFormatID.QueryParam]: (v, name) => [v].flat().map((one) => `var-${name}=${strict(one)}`).join('&'),
  [VariableFormatID.Regex]: (v) =>
    Array.isArray(v) ? (v.length === 1 ? escapeRegex(v[0]) : `(${v.map(escapeRegex).join('|')})`) : escapeRegex(v),
};

function format(value: Value, form: string, name: string): string {
  if (value === undefined || value === null) {
    return '';
  }
  if (value instanceof Preformatted) {
    return value.text;
  }
  const plain = typeof value === 'object' && !Array.isArray(value) ? `${value}` : value;
  const formatter = FORMATS[form];
  if (!formatter) {
    throw new Error(`variable format ${form} of ${name} is not replicated (templating.ts)`);
  }
  return formatter(typeof plain === 'number' ? String(plain) : plain, name);
}

// lodash-style path into an object: fields.site, fields["site"], fields[site].
function accessor(path: string): (object: any) => unknown {
  const keys = path.split(/\.|\[["']?|["']?\]/).filter(Boolean);
  return (object) => keys.reduce((at, key) => (at == null ? undefined : at[key]), object);
}

interface DataContext {
  frame: DataFrame;
  rowIndex?: number;
  field?: Field;
  data?: DataFrame[];
}

// scenes DataMacro: a field's displayed value in the row a link or cell is for.
function dataValue(scopedVars: ScopedVars | undefined, path: string | undefined): Value {
  const context = scopedVars?.__dataContext?.value as DataContext | undefined;
  if (!context || context.rowIndex === undefined || path === undefined) {
    return undefined;
  }
  const { frame, rowIndex } = context;
  const data = { name: frame.name, refId: frame.refId, fields: getFieldDisplayValuesProxy({ frame, rowIndex }) };
  return accessor(path)(data) as Value;
}

// scenes FieldValueMacro with templateProxies.ts getTemplateProxyForField: the field a display
// name is for (applyFieldOverrides puts it in __dataContext): its name, display name and labels.
function fieldValue(scopedVars: ScopedVars | undefined, path: string | undefined): Value {
  const context = scopedVars?.__dataContext?.value as DataContext | undefined;
  if (!context?.field || path === undefined) {
    return undefined;
  }
  const { field, frame, data } = context;
  const proxy = { name: field.name, displayName: getFieldDisplayName(field, frame, data), labels: field.labels ?? {} };
  return accessor(path)(proxy) as Value;
}

/** The dashboard's replaceVariables: scoped variables, then macros, then the dashboard's own. */
export function makeReplaceVariables(board: BoardInput, timeRange: TimeRange): InterpolateFunction {
  const variables = new Map<string, Variable>(
    (board.dashboard.templating?.list ?? []).map((variable: Variable) => [variable.name, variable])
  );

  // The dashboard variable's value as scenes formats it; an All is its allValue, unformatted.
  function dashboardValue(variable: Variable, form: string): Value {
    const values = board.variables[variable.name] ?? [];
    if (values.length === 1 && values[0] === ALL) {
      if (!variable.allValue) {
        throw new Error(`All of ${variable.name} without an allValue needs its options`);
      }
      const all: Record<string, string> = {
        [VariableFormatID.Text]: 'All',
        [VariableFormatID.PercentEncode]: strict(variable.allValue),
        [VariableFormatID.QueryParam]: `var-${variable.name}=${ALL}`,
      };
      return new Preformatted(all[form] ?? variable.allValue);
    }
    return variable.multi || variable.includeAll ? values : values[0];
  }

  function macro(name: string, path: string | undefined, scopedVars?: ScopedVars): Value | null {
    switch (name) {
      case '__data':
        return dataValue(scopedVars, path);
      case '__field':
        return fieldValue(scopedVars, path);
      case '__url_time_range':
        // scenes UrlTimeRangeMacro: the time range's URL state, "browser" as the browser's zone.
        return new Preformatted(
          urlUtil.toUrlParams({ from: timeRange.raw.from, to: timeRange.raw.to, timezone: board.timeZone })
        );
      case '__from':
        return timeRange.from.valueOf();
      case '__to':
        return timeRange.to.valueOf();
      case '__timezone':
        return board.timeZone;
      default:
        return null;
    }
  }

  return (text, scopedVars, form) => {
    if (!text) {
      return text ?? '';
    }
    return text.replace(VARIABLE, (match, var1, var2, fmt2, var3, path, fmt3) => {
      const name: string = var1 || var2 || var3;
      const chosen: string = fmt2 || fmt3 || (typeof form === 'string' ? form : VariableFormatID.Glob);
      const scoped = scopedVars?.[name];
      if (scoped !== undefined) {
        return format((path ? accessor(path)(scoped.value) : scoped.value) as Value, chosen, name);
      }
      const fromMacro = macro(name, path, scopedVars);
      if (fromMacro !== null) {
        return format(fromMacro, chosen, name);
      }
      const variable = variables.get(name);
      return variable ? format(dashboardValue(variable, chosen), chosen, name) : match;
    });
  };
}
