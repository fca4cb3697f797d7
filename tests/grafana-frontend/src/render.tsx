// Draws a dashboard as Grafana 12.4.10 does: its panels at their grid positions, each in
// @grafana/ui's PanelChrome, rows as the dashboard's row headers, inside Grafana's dark theme
// and global styles. Each panel type's component is in src/panel-<type>.tsx.
import { css, injectGlobal } from '@emotion/css';
import { type DataFrame } from '@grafana/data';
import { GlobalStyles, Icon, PanelChrome, ThemeContext, useStyles2 } from '@grafana/ui';
import React, { useEffect, useRef } from 'react';

import { serveGrafanaAssets } from './assets';
import { BarGaugePanel } from './panel-bargauge';
import { type PanelViewProps } from './panel-common';
import { StatPanel } from './panel-stat';
import { TablePanel } from './panel-table';
import { TimeSeriesPanel } from './panel-timeseries';
import { checkPinnedVersions } from './pinned';
import type { BoardInput, PanelContext, PanelJSON } from './types';

// grafana/grafana v12.4.10, public/app/core/constants.ts: GRID_CELL_HEIGHT, GRID_CELL_VMARGIN,
// GRID_COLUMN_COUNT; the grid is react-grid-layout with those margins and no container padding.
const GRID_CELL_HEIGHT = 30;
const GRID_CELL_VMARGIN = 8;
const GRID_COLUMN_COUNT = 24;

// The page around the grid, as Grafana 12.4's dashboard page without its controls (kiosk):
// the canvas pads theme.spacing(0.5, 2) and its body theme.spacing(2) above and below.
const PAGE_PADDING_X = 16;
const PAGE_PADDING_Y = 20;

serveGrafanaAssets();
// Grafana's own stylesheet (public/sass/base/_reboot.scss, not on npm) takes the body's margin off.
injectGlobal({ body: { margin: 0 } });

const PANELS: Record<string, React.ComponentType<PanelViewProps>> = {
  stat: StatPanel,
  bargauge: BarGaugePanel,
  table: TablePanel,
  timeseries: TimeSeriesPanel,
};

export interface DashboardProps {
  board: BoardInput;
  data: Map<number, DataFrame[]>;
  context: PanelContext;
  onRendered: () => void;
}

interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/** react-grid-layout's calcGridItemPosition for Grafana's grid, in a container `width` wide. */
function gridBox(gridPos: { x: number; y: number; w: number; h: number }, width: number): Box {
  const colWidth = (width - GRID_CELL_VMARGIN * (GRID_COLUMN_COUNT - 1)) / GRID_COLUMN_COUNT;
  return {
    left: Math.round((colWidth + GRID_CELL_VMARGIN) * gridPos.x),
    top: Math.round((GRID_CELL_HEIGHT + GRID_CELL_VMARGIN) * gridPos.y),
    width: Math.round(colWidth * gridPos.w + Math.max(0, gridPos.w - 1) * GRID_CELL_VMARGIN),
    height: Math.round(GRID_CELL_HEIGHT * gridPos.h + Math.max(0, gridPos.h - 1) * GRID_CELL_VMARGIN),
  };
}

/** The panels the grid shows: those at the top level, rows included (a collapsed row keeps its own). */
function gridItems(dashboard: Record<string, any>): PanelJSON[] {
  return dashboard.panels ?? [];
}

export function Dashboard({ board, data, context, onRendered }: DashboardProps) {
  useRendered(onRendered);
  return (
    <ThemeContext.Provider value={context.theme}>
      <GlobalStyles />
      <Failing what={`dashboard ${board.name}`}>
        <Grid board={board} data={data} context={context} />
      </Failing>
    </ThemeContext.Provider>
  );
}

/** The page: the grid's items at their positions. */
function Grid({ board, data, context }: Omit<DashboardProps, 'onRendered'>) {
  checkPinnedVersions();
  const width = document.documentElement.clientWidth - 2 * PAGE_PADDING_X;
  const items = gridItems(board.dashboard);
  const boxes = items.map((item) => gridBox(item.gridPos, width));
  const height = Math.max(0, ...boxes.map((box) => box.top + box.height));
  return (
    <div
      style={{ padding: `${PAGE_PADDING_Y}px ${PAGE_PADDING_X}px`, background: context.theme.colors.background.canvas }}
    >
      <div style={{ position: 'relative', width, height }}>
        {items.map((item, index) => (
          <div key={item.id} style={{ position: 'absolute', ...boxes[index] }}>
            {item.type === 'row' ? (
              <RowHeader row={item} />
            ) : (
              <Panel panel={item} box={boxes[index]} frames={data.get(item.id) ?? []} context={context} />
            )}
          </div>
        ))}
      </div>
    </div>
  );
}

/** Shows what failed to draw in its place and logs it as an error (which fails the run),
 * so that the page still reports: a panel that cannot draw is not left blank. */
class Failing extends React.Component<{ what: string; children: React.ReactNode }, { error?: Error }> {
  state: { error?: Error } = {};

  static getDerivedStateFromError(error: Error) {
    return { error };
  }

  componentDidCatch(error: Error) {
    console.error(`${this.props.what} could not be drawn: ${error.message}`);
  }

  render() {
    const { error } = this.state;
    if (error) {
      return <div role="alert">{`${this.props.what} could not be drawn: ${error.message}`}</div>;
    }
    return this.props.children;
  }
}

/** A panel type without a renderer here: it fails where the panel would be. */
function unknownType(type: string): React.ComponentType<PanelViewProps> {
  return function UnknownType() {
    throw new Error(`no renderer for panel type ${type}`);
  };
}

/** Calls onRendered once, after the fonts have loaded and the browser has painted twice since
 * (uPlot and the table's grid draw in the frames after they mount). */
function useRendered(onRendered: () => void) {
  const called = useRef(false);
  useEffect(() => {
    if (called.current) {
      return;
    }
    called.current = true;
    const frame = () => new Promise((resolve) => requestAnimationFrame(resolve));
    document.fonts.ready.then(frame).then(frame).then(onRendered);
  }, [onRendered]);
}

// @grafana/scenes' SceneGridRowRenderer (the renderer of a dashboard's rows in Grafana 12.4):
// a 30 px header with the collapse chevron and the title at h5 size; the panel count shows only
// when collapsed. Replicated because @grafana/scenes is not among the pinned packages.
function RowHeader({ row }: { row: PanelJSON }) {
  const styles = useStyles2(getRowStyles);
  return (
    <div className={styles.row} data-row-title={row.title}>
      <button className={styles.rowTitleButton} type="button">
        <Icon name={row.collapsed ? 'angle-right' : 'angle-down'} />
        <span className={styles.rowTitle} role="heading">
          {row.title}
        </span>
      </button>
    </div>
  );
}

function getRowStyles(theme: PanelContext['theme']) {
  return {
    row: css({
      width: '100%',
      height: '30px',
      display: 'flex',
      justifyContent: 'space-between',
      gap: theme.spacing(1),
    }),
    rowTitleButton: css({
      display: 'flex',
      alignItems: 'center',
      cursor: 'pointer',
      background: 'transparent',
      border: 'none',
      minWidth: 0,
      gap: theme.spacing(1),
    }),
    rowTitle: css({
      fontSize: theme.typography.h5.fontSize,
      fontWeight: theme.typography.fontWeightMedium,
      whiteSpace: 'nowrap',
      overflow: 'hidden',
      textOverflow: 'ellipsis',
      maxWidth: '100%',
      flexGrow: 1,
      minWidth: 0,
    }),
  };
}

interface PanelProps {
  panel: PanelJSON;
  box: Box;
  frames: DataFrame[];
  context: PanelContext;
}

/** One panel in its chrome, as Scenes' VizPanelRenderer draws it: title, description icon,
 * the plugin's padding; the outer element names the panel for run.mjs. */
function Panel({ panel, box, frames, context }: PanelProps) {
  const View = PANELS[panel.type] ?? unknownType(panel.type);
  return (
    <div data-panel-title={panel.title} data-panel-type={panel.type} style={{ width: box.width, height: box.height }}>
      <PanelChrome
        width={box.width}
        height={box.height}
        title={context.replaceVariables(panel.title)}
        description={panel.description ? context.replaceVariables(panel.description) : undefined}
        // Scenes' VizPanelRenderer pads unless the plugin called setNoPadding(), which none of
        // these four does (public/app/plugins/panel/<type>/module.tsx).
        padding="md"
        displayMode={panel.transparent ? 'transparent' : 'default'}
      >
        {(innerWidth, innerHeight) => (
          <Failing what={`panel "${panel.title}"`}>
            <View panel={panel} frames={frames} width={innerWidth} height={innerHeight} context={context} />
          </Failing>
        )}
      </PanelChrome>
    </div>
  );
}
