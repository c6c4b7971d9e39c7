import type { Notification } from '../model.js';

/** One internal address and the public one that replaces it in links shown in Discord. */
export interface LinkRewrite {
  from: string;
  to: string;
}

/** The rewrites of a config: each backend's `url` to its `publicUrl`, where both are set and differ. */
export function linkRewrites(config: {
  grafana?: { url: string; publicUrl?: string | undefined } | undefined;
  prometheus: { url: string; publicUrl?: string | undefined };
  alertmanager?: { url: string; publicUrl?: string | undefined } | undefined;
}): LinkRewrite[] {
  // The longest base first: a Prometheus under Grafana's host (http://h:3000/prometheus) is its own.
  return [config.grafana, config.prometheus, config.alertmanager]
    .flatMap((b) => (b?.publicUrl && b.publicUrl !== b.url ? [{ from: b.url, to: b.publicUrl }] : []))
    .sort((a, b) => b.from.length - a.from.length);
}

/** `url` with an internal base replaced by its public one (the base must end where a path, query or fragment starts). */
export function publicLink(url: string | undefined, rewrites: readonly LinkRewrite[]): string | undefined {
  if (url === undefined) return undefined;
  for (const { from, to } of rewrites) {
    if (url === from || (url.startsWith(from) && '/?#'.includes(url[from.length]!))) return to + url.slice(from.length);
  }
  return url;
}

/** A notification whose links (generator, silence, dashboard, panel, external URL) point at public addresses. */
export function publicNotification(n: Notification, rewrites: readonly LinkRewrite[]): Notification {
  if (!rewrites.length) return n;
  const link = (u: string | undefined) => publicLink(u, rewrites);
  const alerts = n.alerts.map((a) => {
    const out = { ...a };
    for (const key of ['generatorURL', 'silenceURL', 'dashboardURL', 'panelURL'] as const) {
      const v = link(a[key]);
      if (v !== undefined) out[key] = v;
    }
    return out;
  });
  const externalURL = link(n.externalURL);
  return { ...n, alerts, ...(externalURL !== undefined ? { externalURL } : {}) };
}

/**
 * Why a link base would not open on a phone: a bare compose or container host name (no dot, not
 * localhost, not an IP address) such as `http://grafana:3000`; undefined when it looks reachable.
 */
export function unreachableLinkBase(base: string): string | undefined {
  const host = new URL(base).hostname;
  if (host === 'localhost' || host.includes('.') || host.includes(':') || host.startsWith('[')) return undefined;
  return `${base} is a bare host name (a compose service?) that a phone cannot open`;
}
