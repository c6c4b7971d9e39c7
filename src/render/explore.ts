import type { ExploreTarget } from '../findings.js';
import { translator, type Locale, type T } from '../i18n/index.js';
import { markdownLink } from './format.js';
import { EMBED_URL } from './limits.js';
import { codePointLength } from './truncate.js';

/*
 * Grafana Explore deep links (Grafana 10, 11 and 12): `/explore?schemaVersion=1&panes=<JSON>&orgId=1`
 * where panes maps a pane id to `{ datasource, queries, range }` (grafana/grafana
 * public/app/features/explore/hooks/useStateSync/migrators/v1.ts). Grafana replaces a pane id that
 * is not exactly 3 characters of its id alphabet with a random one; "vgl" is kept. The range holds
 * epoch milliseconds as strings, which Explore reads as absolute times.
 */

/** The provisioned datasource uids the links point at (config grafana.prometheusUid / grafana.lokiUid). */
export interface ExploreDatasources {
  prometheusUid: string;
  lokiUid: string;
}

/** The uids the bundled stack provisions. */
export const DEFAULT_DATASOURCES: ExploreDatasources = { prometheusUid: 'prometheus', lokiUid: 'loki' };

/** The Explore pane id Vigil's links use. */
export const PANE_ID = 'vgl';

/** A Grafana uid (dashboards, datasources): letters, digits, `-` and `_`, at most 40. */
const GRAFANA_UID = /^[A-Za-z0-9_-]{1,40}$/;

/** One link as shown: its text, its URL, and whether the URL carries the query. */
export interface ExploreLink {
  label: string;
  url: string;
  /** False when the query made the URL too long: the link opens the datasource and window only. */
  withQuery: boolean;
}

/** True for a string Grafana accepts as a dashboard or datasource uid. */
export function isGrafanaUid(uid: string): boolean {
  return GRAFANA_UID.test(uid);
}

function uidOf(target: Pick<ExploreTarget, 'datasource'>, uids: ExploreDatasources): string {
  return target.datasource === 'loki' ? uids.lokiUid : uids.prometheusUid;
}

/**
 * The query object Grafana's Prometheus or Loki query editor reads, in code mode. Both run a
 * range query when the query names no type, so `range`/`queryType` are left out to keep links short.
 */
function queryModel(target: ExploreTarget, uid: string, withQuery: boolean): Record<string, unknown> {
  const base = { refId: 'A', datasource: { type: target.datasource, uid } };
  return withQuery ? { ...base, expr: target.expr, editorMode: 'code' } : base;
}

/** The `panes` JSON of one Explore pane over the target's window. */
export function explorePanes(target: ExploreTarget, uids: ExploreDatasources, withQuery = true): string {
  const uid = uidOf(target, uids);
  const pane = {
    datasource: uid,
    queries: [queryModel(target, uid, withQuery)],
    range: { from: String(target.start.getTime()), to: String(target.end.getTime()) },
  };
  return JSON.stringify({ [PANE_ID]: pane });
}

/**
 * Percent-encodes a query-string value, leaving the characters a URL allows there as they are
 * (`:` `,` `/` `@`) to keep links short; `+` `&` `#` `(` `)` `*` `'` `!` and everything else are encoded.
 */
export function encodeQueryValue(value: string): string {
  return encodeURIComponent(value)
    .replace(/%3A/g, ':')
    .replace(/%2C/g, ',')
    .replace(/%2F/g, '/')
    .replace(/%40/g, '@')
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

/** The Explore URL for a target; `grafanaUrl` is the base without a trailing slash. */
export function exploreUrl(grafanaUrl: string, target: ExploreTarget, uids: ExploreDatasources, withQuery = true): string {
  const base = grafanaUrl.replace(/\/+$/, '');
  return `${base}/explore?schemaVersion=1&panes=${encodeQueryValue(explorePanes(target, uids, withQuery))}&orgId=1`;
}

/**
 * The link for a target within `maxLength` characters: with the exact query when it fits, else
 * the datasource and window only (withQuery false); undefined when not even that fits.
 */
export function exploreLink(grafanaUrl: string, target: ExploreTarget, uids: ExploreDatasources, maxLength: number = EMBED_URL): ExploreLink | undefined {
  const limit = Math.min(maxLength, EMBED_URL);
  for (const withQuery of [true, false]) {
    const url = exploreUrl(grafanaUrl, target, uids, withQuery);
    if (codePointLength(url) <= limit) return { label: target.label, url, withQuery };
  }
  return undefined;
}

/** A dashboard link over a window: `<grafana>/d/<uid>?from=…&to=…&orgId=1`; undefined for an invalid uid. */
export function dashboardUrl(grafanaUrl: string, uid: string, window?: { start: Date; end: Date }): string | undefined {
  if (!isGrafanaUid(uid)) return undefined;
  const range = window ? `from=${window.start.getTime()}&to=${window.end.getTime()}&` : '';
  return `${grafanaUrl.replace(/\/+$/, '')}/d/${uid}?${range}orgId=1`;
}

/** Explore links that fit a field: the markdown text and which links lost their query or were left out. */
export interface FittedExploreLinks {
  /** `[Metrics](…) · [Logs](…)`, empty when nothing fits. */
  text: string;
  links: ExploreLink[];
  /** Labels of the targets left out because not even a link without the query fitted. */
  omitted: string[];
}

const SEPARATOR = ' · ';

/** `[label](url)`, the label saying when the link lost its query. */
function markdown(link: ExploreLink, t: T): string {
  return markdownLink(link.withQuery ? link.label : t('commands.explore.windowOnly', { label: link.label }), link.url);
}

function joined(links: readonly ExploreLink[], t: T): string {
  return links.map((link) => markdown(link, t)).join(SEPARATOR);
}

/** How a target is shown: its full link, the link without the query, or not at all. */
type LinkForm = 'full' | 'window' | 'none';
const FORMS: readonly LinkForm[] = ['full', 'window', 'none'];
/** Targets weighed one by one: beyond this many, the rest are left out (links are few in practice). */
const MAX_TARGETS = 5;

/** Every way to show `count` targets, each full, window-only or left out. */
function combinations(count: number): LinkForm[][] {
  if (count === 0) return [[]];
  return combinations(count - 1).flatMap((rest) => FORMS.map((f) => [f, ...rest]));
}

/** True when `a` serves the reader better: the first target that differs is shown more fully. */
function better(a: readonly LinkForm[], b: readonly LinkForm[]): boolean {
  for (let i = 0; i < a.length; i++) {
    if (a[i] !== b[i]) return FORMS.indexOf(a[i]!) < FORMS.indexOf(b[i]!);
  }
  return false;
}

/**
 * Fits links for `targets` (most important first) into `budget` characters, as a Discord embed
 * field value (1024) must: the most important targets keep their exact query; a link too long
 * with it opens the datasource and window only (and says "window only"); what still does not fit
 * is left out. Of all the ways that fit, the one that shows the first targets most fully wins.
 * The "window only" mark is in `locale` (default 'en').
 */
export function fitExploreLinks(
  grafanaUrl: string,
  targets: readonly ExploreTarget[],
  uids: ExploreDatasources,
  budget: number,
  locale: Locale = 'en',
): FittedExploreLinks {
  const t = translator(locale);
  const weighed = targets.slice(0, MAX_TARGETS);
  const forms = weighed.map((t) => ({
    full: exploreLink(grafanaUrl, t, uids),
    window: { label: t.label, url: exploreUrl(grafanaUrl, t, uids, false), withQuery: false },
  }));
  const linksOf = (combo: readonly LinkForm[]) =>
    combo.flatMap((form, i): ExploreLink[] => {
      if (form === 'none') return [];
      const link = form === 'full' ? forms[i]!.full : forms[i]!.window;
      return link && (form === 'window' || link.withQuery) ? [link] : [];
    });
  let best: LinkForm[] = weighed.map(() => 'none');
  for (const combo of combinations(weighed.length)) {
    const links = linksOf(combo);
    // A combination that names a link it cannot build (too long even alone) is not a real choice.
    if (links.length !== combo.filter((f) => f !== 'none').length) continue;
    if (codePointLength(joined(links, t)) <= budget && better(combo, best)) best = combo;
  }
  const links = linksOf(best);
  const omitted = [...weighed.filter((_, i) => best[i] === 'none'), ...targets.slice(MAX_TARGETS)].map((t) => t.label);
  return { text: joined(links, t), links, omitted };
}

/** The datasource uids of the config's grafana section, the provisioned ones where it sets none. */
export function datasourcesOf(grafana?: { prometheusUid?: string | undefined; lokiUid?: string | undefined }): ExploreDatasources {
  return {
    prometheusUid: grafana?.prometheusUid ?? DEFAULT_DATASOURCES.prometheusUid,
    lokiUid: grafana?.lokiUid ?? DEFAULT_DATASOURCES.lokiUid,
  };
}
