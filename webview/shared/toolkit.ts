// The one file that knows the UI kit: every webview takes its form controls from here, so replacing
// @vscode/webview-ui-toolkit (no longer developed upstream) is a change to this file alone (a lint
// rule keeps every other file from importing it). Components register lazily: an app that never
// calls registerToolkit() does not pay for them.
import {
  provideVSCodeDesignSystem,
  vsCodeBadge,
  vsCodeButton,
  vsCodeCheckbox,
  vsCodeDataGrid,
  vsCodeDataGridCell,
  vsCodeDataGridRow,
  vsCodeDivider,
  vsCodeDropdown,
  vsCodeLink,
  vsCodeOption,
  vsCodePanels,
  vsCodePanelTab,
  vsCodePanelView,
  vsCodeProgressRing,
  vsCodeRadio,
  vsCodeRadioGroup,
  vsCodeTag,
  vsCodeTextArea,
  vsCodeTextField,
} from '@vscode/webview-ui-toolkit';

/** The custom-element tags the coming webviews use (experiment form, sample inspector, scoring). */
export const TOOLKIT_TAGS = {
  badge: 'vscode-badge',
  button: 'vscode-button',
  checkbox: 'vscode-checkbox',
  dataGrid: 'vscode-data-grid',
  dataGridRow: 'vscode-data-grid-row',
  dataGridCell: 'vscode-data-grid-cell',
  divider: 'vscode-divider',
  dropdown: 'vscode-dropdown',
  link: 'vscode-link',
  option: 'vscode-option',
  panels: 'vscode-panels',
  panelTab: 'vscode-panel-tab',
  panelView: 'vscode-panel-view',
  progressRing: 'vscode-progress-ring',
  radio: 'vscode-radio',
  radioGroup: 'vscode-radio-group',
  tag: 'vscode-tag',
  textArea: 'vscode-text-area',
  textField: 'vscode-text-field',
} as const;

let registered = false;

/** Defines the toolkit's custom elements once per page (a second define would throw). */
export function registerToolkit(): void {
  if (registered) return;
  registered = true;
  provideVSCodeDesignSystem().register(
    vsCodeBadge(),
    vsCodeButton(),
    vsCodeCheckbox(),
    vsCodeDataGrid(),
    vsCodeDataGridRow(),
    vsCodeDataGridCell(),
    vsCodeDivider(),
    vsCodeDropdown(),
    vsCodeLink(),
    vsCodeOption(),
    vsCodePanels(),
    vsCodePanelTab(),
    vsCodePanelView(),
    vsCodeProgressRing(),
    vsCodeRadio(),
    vsCodeRadioGroup(),
    vsCodeTag(),
    vsCodeTextArea(),
    vsCodeTextField(),
  );
}
