/**
 * One palette for the report, the figures and the Grafana dashboards: Okabe & Ito's eight colours, distinguishable
 * with every common colour-vision deficiency. A regime or a quantity keeps one colour everywhere: `regimeColor` and
 * `ink` in charts.ts hold them (the page inlines those), and grafana/dashboards/cell.json and fleet.json use the same
 * hex values (test/grafana/provisioning.test.ts holds them to it). The fleet's per-cell lines keep Grafana's own
 * palette: cells are not quantities, and a fleet has more than eight.
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
