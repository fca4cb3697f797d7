// The page run.mjs opens: one dashboard through Grafana's frontend code, then drawn.
// window.__INPUT__ is a BoardInput; window.__RESULT__ is set, once every panel has drawn,
// to {panel title: Displayed}.
import { createTheme } from '@grafana/data';
import React from 'react';
import { createRoot } from 'react-dom/client';

import { displayed, panelContext, panelData, panelsOf } from './pipeline';
import { Dashboard } from './render';
import type { BoardInput, Displayed } from './types';

declare global {
  interface Window {
    __INPUT__: BoardInput;
    __RESULT__?: Record<string, Displayed>;
  }
}

const board = window.__INPUT__;
const theme = createTheme({ colors: { mode: 'dark' } });
const context = panelContext(board, theme);
const panels = panelsOf(board.dashboard);
const data = new Map(panels.map((panel) => [panel.id, panelData(panel, board.responses[String(panel.id)], context)]));
const result = Object.fromEntries(panels.map((panel) => [panel.title, displayed(panel, data.get(panel.id) ?? [], context)]));

createRoot(document.getElementById('root')!).render(
  <Dashboard board={board} data={data} context={context} onRendered={() => (window.__RESULT__ = result)} />
);
