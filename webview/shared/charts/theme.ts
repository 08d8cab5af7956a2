// Colours and fonts from VS Code's theme variables, with fallbacks for each theme kind so the view
// also reads well where a variable is missing. Re-read whenever VS Code switches the body class.

import { DARK_PALETTE, LIGHT_PALETTE } from './palette';

export { DARK_PALETTE, LIGHT_PALETTE };

export type ThemeKind = 'light' | 'dark' | 'high-contrast' | 'high-contrast-light';

export interface Theme {
  kind: ThemeKind;
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  axis: string;
  focus: string;
  error: string;
  /** Series palette, in assignment order. */
  palette: string[];
  fontFamily: string;
  fontSize: number;
}

interface Fallbacks {
  foreground: string;
  muted: string;
  background: string;
  grid: string;
  focus: string;
  error: string;
  palette: string[];
}

const DARK: Fallbacks = {
  foreground: '#cccccc',
  muted: '#9d9d9d',
  background: '#1f1f1f',
  grid: '#454545',
  focus: '#0078d4',
  error: '#f85149',
  // Okabe–Ito (colour-blind safe), in an order whose first pairs never set red against green,
  // all at least 3:1 against a dark sidebar; no brown (it sinks into dark backgrounds).
  palette: [...DARK_PALETTE],
};

const LIGHT: Fallbacks = {
  foreground: '#3b3b3b',
  muted: '#717171',
  background: '#ffffff',
  grid: '#e5e5e5',
  focus: '#005fb8',
  error: '#e51400',
  // Tol's indigo, teal, wine and red with Okabe–Ito vermillion and blue (indigo first: the focus-blue
  // selection line must not pass for a run): at least 3:1 against a
  // light sidebar and apart under deuteranopia and protanopia; no yellow (no light theme carries it).
  palette: [...LIGHT_PALETTE],
};

const HC: Fallbacks = {
  ...DARK,
  foreground: '#ffffff',
  muted: '#ffffff',
  background: '#000000',
  grid: '#6fc3df',
  focus: '#f38518',
};

const HC_LIGHT: Fallbacks = {
  ...LIGHT,
  foreground: '#292929',
  muted: '#292929',
  grid: '#0f4a85',
  focus: '#006bbd',
};

export function themeKind(body: HTMLElement): ThemeKind {
  const c = body.classList;
  if (c.contains('vscode-high-contrast-light')) return 'high-contrast-light';
  if (c.contains('vscode-high-contrast')) return 'high-contrast';
  if (c.contains('vscode-light')) return 'light';
  if (c.contains('vscode-dark')) return 'dark';
  // Outside VS Code (no class): follow the browser's preference.
  return typeof matchMedia === 'function' && matchMedia('(prefers-color-scheme: light)').matches ? 'light' : 'dark';
}

export function readTheme(body: HTMLElement = document.body): Theme {
  const kind = themeKind(body);
  const fb = kind === 'light' ? LIGHT : kind === 'dark' ? DARK : kind === 'high-contrast' ? HC : HC_LIGHT;
  const style = getComputedStyle(body);
  const v = (name: string, fallback: string): string => style.getPropertyValue(name).trim() || fallback;
  const foreground = v('--vscode-foreground', fb.foreground);
  const fontSize = parseFloat(v('--vscode-font-size', '13px')) || 13;
  return {
    kind,
    foreground,
    muted: v('--vscode-descriptionForeground', fb.muted),
    background: v('--vscode-sideBar-background', v('--vscode-editor-background', fb.background)),
    grid: v('--vscode-editorWidget-border', fb.grid),
    axis: v('--vscode-descriptionForeground', fb.muted),
    focus: v('--vscode-focusBorder', fb.focus),
    error: v('--vscode-errorForeground', fb.error),
    // Not the theme's --vscode-charts-* colours: they pair red with green and include a dark orange.
    palette: [...fb.palette],
    fontFamily: v('--vscode-font-family', 'system-ui, -apple-system, "Segoe UI", sans-serif'),
    fontSize,
  };
}

/** Calls onChange when VS Code switches theme (it rewrites the body class and the variables). */
export function watchTheme(onChange: (theme: Theme) => void): () => void {
  const observer = new MutationObserver(() => onChange(readTheme()));
  observer.observe(document.body, { attributes: true, attributeFilter: ['class'] });
  observer.observe(document.documentElement, { attributes: true, attributeFilter: ['style'] });
  return () => observer.disconnect();
}
