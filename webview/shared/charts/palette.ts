// The run colours, DOM-free so Node-side tests can check them (contrast, colour-blind distance).
/** The run colours on dark and on light themes (the tests look for them in pixels). */
export const DARK_PALETTE: readonly string[] = ['#56b4e9', '#e69f00', '#cc79a7', '#f0e442', '#009e73', '#d55e00'];
export const LIGHT_PALETTE: readonly string[] = ['#332288', '#d55e00', '#009988', '#882255', '#0072b2', '#b2182b'];
