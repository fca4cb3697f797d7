// The panel replicas (src/panel-*.tsx) follow Grafana 12.4.10's application code: drawing with
// other versions of Grafana's packages would mix versions silently. Each panel plugin's schema,
// published in @grafana/schema, carries the version it was built from.
import {
  pluginVersion as bargauge,
} from '@grafana/schema/dist/esm/raw/composable/bargauge/panelcfg/x/BarGaugePanelCfg_types.gen';
import { pluginVersion as stat } from '@grafana/schema/dist/esm/raw/composable/stat/panelcfg/x/StatPanelCfg_types.gen';
import {
  pluginVersion as table,
} from '@grafana/schema/dist/esm/raw/composable/table/panelcfg/x/TablePanelCfg_types.gen';
import {
  pluginVersion as timeseries,
} from '@grafana/schema/dist/esm/raw/composable/timeseries/panelcfg/x/TimeSeriesPanelCfg_types.gen';

/** The Grafana release whose panels src/panel-*.tsx replicate. */
export const REPLICATED_VERSION = '12.4.10';

export function checkPinnedVersions() {
  const versions = { bargauge, stat, table, timeseries };
  for (const [panel, version] of Object.entries(versions)) {
    if (version !== REPLICATED_VERSION) {
      throw new Error(`the ${panel} panel replica is of Grafana ${REPLICATED_VERSION}, the packages are ${version}`);
    }
  }
}
