/**
 * One palette for the report and the figures: Okabe & Ito's eight colours, distinguishable with every common
 * colour-vision deficiency. Regimes keep one colour everywhere (`regimeColor` in charts.ts holds their shading,
 * because the page inlines it).
 */
export const OKABE_ITO = {
  black: '#000000',
  orange: '#E69F00',
  skyBlue: '#56B4E9',
  bluishGreen: '#009E73',
  yellow: '#F0E442',
  blue: '#0072B2',
  vermillion: '#D55E00',
  reddishPurple: '#CC79A7',
} as const;

/** What each regime is called in legends and captions. */
export const REGIME_LABELS: Record<string, string> = {
  polarization: 'polarization',
  short: 'short',
  'isolated-short': 'isolated short',
  'soft-short': 'soft short',
  learning: 'learning',
  'not-symmetric': 'not symmetric',
};
