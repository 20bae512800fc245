/**
 * ECharts options of the run report. The builders use nothing but `timeChart` and their arguments, because
 * the same functions run in the page, where their source is inlined (timeChart first), and in Node for the
 * PNG export.
 */

export interface ReportCell {
  readonly id: string;
  readonly t0_ms: number;
  readonly complianceV: number;
  readonly segments: readonly { regime: string; start_ms: number; end_ms: number }[];
  readonly halfCycles: readonly { index: number; start_ms: number; duration_s: number; tMax_s: number; peakAbsVoltage_V: number; cutByCompliance: boolean }[];
  /** Display series as [hours since t0, value]. */
  readonly series: Record<string, [number, number][]>;
  /** High-frequency intercepts of the impedance spectra inside the run, as [hours since t0, Ω]. */
  readonly impedance?: readonly [number, number][];
}

/** What every chart shares: title, tooltip, legend, grid, an x axis in hours and, in the page, zoom. */
export function timeChart(
  title: string,
  interactive: boolean,
  o: { legend?: string[]; right?: number; range?: [number, number] | null; tooltip?: string } = {},
): Record<string, unknown> {
  const zoomable = interactive && !o.range;
  return {
    animation: false,
    title: { top: 2, text: title, left: 'center', textStyle: { fontSize: 13 } },
    tooltip: { trigger: o.tooltip ?? 'axis' },
    legend: o.legend ? { top: 24, data: o.legend } : undefined,
    grid: { left: 60, right: o.right ?? 30, top: o.legend ? 55 : 40, bottom: zoomable ? 70 : 40 },
    xAxis: {
      type: 'value',
      name: 'time (h)',
      nameLocation: 'middle',
      nameGap: 25,
      min: o.range ? o.range[0] : 'dataMin',
      max: o.range ? o.range[1] : 'dataMax',
    },
    dataZoom: zoomable
      ? [
          { type: 'inside', xAxisIndex: 0, filterMode: 'none' },
          { type: 'slider', xAxisIndex: 0, filterMode: 'none', height: 18, bottom: 12 },
        ]
      : [],
  };
}

/** Voltage vs time with the regimes shaded and the compliance limit drawn: the paper's Fig. 2 view. */
export function voltageOption(c: ReportCell, interactive: boolean, zoom?: [number, number] | null): Record<string, unknown> {
  const h = (t: number): number => (t - c.t0_ms) / 3.6e6;
  const colors: Record<string, string> = {
    stable: 'rgba(64,192,87,0.12)',
    polarization: 'rgba(253,126,20,0.18)',
    short: 'rgba(224,49,49,0.28)',
    'isolated-short': 'rgba(132,94,247,0.28)',
    learning: 'rgba(134,142,150,0.16)',
    'not-symmetric': 'rgba(134,142,150,0.30)',
  };
  const areas = c.segments
    .filter((s) => s.regime !== 'stable')
    .map((s) => [{ name: s.regime, xAxis: h(s.start_ms), itemStyle: { color: colors[s.regime] } }, { xAxis: h(s.end_ms) }]);
  const title = zoom ? `${c.id}: voltage, ${zoom[0].toFixed(1)}–${zoom[1].toFixed(1)} h` : `${c.id}: voltage and regimes`;
  return {
    ...timeChart(title, interactive, { legend: ['voltage', 'compliance limit'], range: zoom }),
    yAxis: { type: 'value', name: 'V', min: -c.complianceV * 1.05, max: c.complianceV * 1.05 },
    series: [
      {
        name: 'voltage',
        type: 'line',
        data: c.series['voltage_V'] ?? [],
        showSymbol: false,
        lineStyle: { width: 1, color: '#1c7ed6' },
        markArea: { silent: true, label: { show: false }, data: areas },
      },
      {
        name: 'compliance limit',
        type: 'line',
        data: [],
        lineStyle: { type: 'dashed', color: '#c92a2a' },
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dashed', color: '#c92a2a' },
          label: { formatter: '{c} V' },
          data: [{ yAxis: c.complianceV }, { yAxis: -c.complianceV }],
        },
      },
    ],
  };
}

/** Contact fraction and local current density (Eq. 2) on log axes; points at the compliance limit are lower bounds. */
export function contactOption(c: ReportCell, interactive: boolean): Record<string, unknown> {
  const pts = (name: string): [number, number][] => (c.series[name] ?? []).filter((p) => p[1] > 0);
  return {
    ...timeChart(`${c.id}: contact fraction and local current density`, interactive, {
      legend: ['contact fraction f', 'j_local', 'j_local ≥ (at compliance)'],
      right: 70,
    }),
    yAxis: [
      { type: 'log', name: 'f = A_eff / A', logBase: 10 },
      { type: 'log', name: 'mA cm⁻²', logBase: 10, splitLine: { show: false } },
    ],
    series: [
      { name: 'contact fraction f', type: 'line', data: pts('contactFraction'), showSymbol: false, lineStyle: { width: 1, color: '#2b8a3e' } },
      { name: 'j_local', type: 'line', yAxisIndex: 1, data: pts('jLocal_mA_cm2'), showSymbol: false, lineStyle: { width: 1, color: '#e8590c' } },
      {
        name: 'j_local ≥ (at compliance)',
        type: 'scatter',
        yAxisIndex: 1,
        data: pts('jLocalLowerBound_mA_cm2'),
        symbol: 'triangle',
        symbolSize: 6,
        itemStyle: { color: '#c92a2a' },
      },
    ],
  };
}

/** R_app / R_ref(T) with the regime thresholds. */
export function ratioOption(c: ReportCell, interactive: boolean): Record<string, unknown> {
  return {
    ...timeChart(`${c.id}: R_app / R_ref(T)`, interactive),
    yAxis: { type: 'log', logBase: 10, name: 'ratio' },
    series: [
      {
        name: 'R_app/R_ref',
        type: 'line',
        data: (c.series['ratio'] ?? []).filter((p) => p[1] > 0),
        showSymbol: false,
        lineStyle: { width: 1, color: '#5f3dc4' },
        markLine: {
          silent: true,
          symbol: 'none',
          lineStyle: { type: 'dotted' },
          data: [
            { yAxis: 1.5, name: 'polarization' },
            { yAxis: 0.5, name: 'short' },
          ],
        },
      },
    ],
  };
}

/**
 * DC against AC resistance: R_app = V/I through the run and the high-frequency intercept of each impedance spectrum.
 * Contact loss raises R_app (constriction) while R_hf stays put; a rising R_hf points at the electrolyte itself.
 */
export function resistanceOption(c: ReportCell, interactive: boolean): Record<string, unknown> {
  return {
    ...timeChart(`${c.id}: R_app (DC) and impedance R_hf (AC)`, interactive, { legend: ['R_app = V/I', 'R_hf (impedance)'] }),
    yAxis: { type: 'log', logBase: 10, name: 'Ω' },
    series: [
      {
        name: 'R_app = V/I',
        type: 'line',
        data: (c.series['rApp_Ohm'] ?? []).filter((p) => p[1] > 0),
        showSymbol: false,
        color: '#5f3dc4',
        lineStyle: { width: 1 },
      },
      {
        name: 'R_hf (impedance)',
        type: 'line',
        data: (c.impedance ?? []).filter((p) => p[1] > 0),
        symbol: 'circle',
        symbolSize: 7,
        color: '#d6336c',
        lineStyle: { width: 1, type: 'dashed' },
      },
    ],
  };
}

/** Pressure and temperature. */
export function auxOption(c: ReportCell, interactive: boolean): Record<string, unknown> {
  return {
    ...timeChart(`${c.id}: pressure and temperature`, interactive, { legend: ['pressure', 'temperature'], right: 60 }),
    yAxis: [
      { type: 'value', name: 'MPa', scale: true },
      { type: 'value', name: '°C', scale: true, splitLine: { show: false } },
    ],
    series: [
      { name: 'pressure', type: 'line', data: c.series['pressure_MPa'] ?? [], showSymbol: false, lineStyle: { width: 1, color: '#495057' } },
      { name: 'temperature', type: 'line', yAxisIndex: 1, data: c.series['temperature_C'] ?? [], showSymbol: false, lineStyle: { width: 1, color: '#f08c00' } },
    ],
  };
}

/** Per half cycle: duration against t_max (Eq. 1), peak |V|, cut by compliance. */
export function halfCycleOption(c: ReportCell, interactive: boolean): Record<string, unknown> {
  const h = (t: number): number => (t - c.t0_ms) / 3.6e6;
  const hc = c.halfCycles;
  return {
    ...timeChart(`${c.id}: half cycles`, interactive, { legend: ['duration', 't_max (Eq. 1)', 'peak |V|', 'cut by compliance'], right: 60, tooltip: 'item' }),
    yAxis: [
      { type: 'log', name: 'min', logBase: 10 },
      { type: 'value', name: 'peak |V|', splitLine: { show: false } },
    ],
    series: [
      {
        name: 'duration',
        type: 'scatter',
        symbolSize: 4,
        data: hc.filter((x) => x.duration_s > 0).map((x) => [h(x.start_ms), x.duration_s / 60]),
        itemStyle: { color: '#1c7ed6' },
      },
      {
        name: 't_max (Eq. 1)',
        type: 'line',
        showSymbol: false,
        data: hc.filter((x) => Number.isFinite(x.tMax_s) && x.tMax_s > 0).map((x) => [h(x.start_ms), x.tMax_s / 60]),
        lineStyle: { type: 'dashed', color: '#868e96' },
      },
      {
        name: 'peak |V|',
        type: 'scatter',
        yAxisIndex: 1,
        symbolSize: 3,
        data: hc.map((x) => [h(x.start_ms), x.peakAbsVoltage_V]),
        itemStyle: { color: '#e8590c' },
      },
      {
        name: 'cut by compliance',
        type: 'scatter',
        yAxisIndex: 1,
        symbol: 'diamond',
        symbolSize: 6,
        data: hc.filter((x) => x.cutByCompliance).map((x) => [h(x.start_ms), x.peakAbsVoltage_V]),
        itemStyle: { color: '#c92a2a' },
      },
    ],
  };
}

export const CHART_BUILDERS = { voltageOption, contactOption, ratioOption, resistanceOption, auxOption, halfCycleOption } as const;
