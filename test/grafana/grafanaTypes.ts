/**
 * The shapes Grafana accepts for the provisioned files, from @grafana/grafana-foundation-sdk's types: the source of
 * the JSON Schemas grafanaSchema.test.ts generates (ts-json-schema-generator, no extra property allowed). Where the
 * SDK is deliberately open (its opaque query variant, panel options typed `any`), the InfluxQL query and the panel
 * plugins' own Options/FieldConfig types are put in; fields Grafana fills with defaults are optional.
 */
import type * as common from '@grafana/grafana-foundation-sdk/common';
import type * as dashboard from '@grafana/grafana-foundation-sdk/dashboard';
import type * as alerting from '@grafana/grafana-foundation-sdk/alerting';
import type * as statetimeline from '@grafana/grafana-foundation-sdk/statetimeline';
import type * as table from '@grafana/grafana-foundation-sdk/table';
import type * as timeseries from '@grafana/grafana-foundation-sdk/timeseries';

/** Grafana's InfluxQL query (public/app/plugins/datasource/influxdb/types.ts), raw-query form. */
export interface InfluxQuery {
  refId: string;
  datasource?: common.DataSourceRef;
  hide?: boolean;
  rawQuery?: boolean;
  query?: string;
  resultFormat?: 'time_series' | 'table' | 'logs';
  alias?: string;
  tz?: string;
}

/** A link: Grafana fills icon, tooltip, asDropdown, targetBlank… with defaults. */
type Link = Partial<dashboard.DashboardLink> & Pick<dashboard.DashboardLink, 'title' | 'type'>;

type FieldConfigOf<C> = {
  defaults: Omit<dashboard.FieldConfig, 'custom'> & { custom?: Partial<C> };
  overrides: dashboard.FieldConfigSource['overrides'];
};

type PanelOf<T extends string, O, C> = Omit<dashboard.Panel, 'type' | 'targets' | 'options' | 'fieldConfig' | 'links'> & {
  type: T;
  links?: Link[];
  targets: InfluxQuery[];
  options?: Partial<O>;
  fieldConfig?: FieldConfigOf<C>;
};

export type ProvisionedPanel =
  | PanelOf<'timeseries', timeseries.Options, timeseries.FieldConfig>
  | PanelOf<'state-timeline', statetimeline.Options, statetimeline.FieldConfig>
  | PanelOf<'table', table.Options, table.FieldConfig>;

export type ProvisionedAnnotation = Omit<dashboard.AnnotationQuery, 'target'> & { target?: InfluxQuery };

export type ProvisionedDashboard = Omit<dashboard.Dashboard, 'panels' | 'annotations' | 'links'> & {
  panels: ProvisionedPanel[];
  links?: Link[];
  annotations: { list: ProvisionedAnnotation[] };
};

/** A rule as a provisioning file writes it: folder, group and org come from its group. */
export type ProvisionedRule = Omit<alerting.Rule, 'folderUID' | 'orgID' | 'ruleGroup' | 'data'> & {
  data: (Omit<alerting.Query, 'model'> & { model: InfluxQuery | ExpressionQuery })[];
};

/** Server-side expressions (datasource `__expr__`). */
export interface ExpressionQuery {
  refId: string;
  type: 'reduce' | 'threshold' | 'math' | 'resample' | 'classic_conditions';
  expression: string;
  reducer?: 'last' | 'mean' | 'sum' | 'min' | 'max' | 'count';
  settings?: { mode: 'dropNN' | 'replaceNN' | 'strict'; replaceWithValue?: number };
  conditions?: { evaluator: { type: 'gt' | 'lt' | 'within_range' | 'outside_range'; params: number[] } }[];
}

/** grafana/provisioning/alerting/*.yaml */
export interface AlertingProvisioning {
  apiVersion: 1;
  contactPoints?: { orgId: number; name: string; receivers: (Omit<alerting.ContactPoint, 'name'> & { uid: string })[] }[];
  policies?: (Omit<alerting.NotificationPolicy, 'receiver'> & { orgId: number; receiver: string })[];
  groups: { orgId: number; name: string; folder: string; interval: string; rules: ProvisionedRule[] }[];
}
