// Which route a notification's alerts go to: by the routes' matchers, or by the webhook URL.
import { matchRoutes, type RouteConfig } from '../config/routes.js';
import type { Alert, Notification } from '../model.js';

/** Where alerts go: a route (its name and channel), or with neither the alert channel. */
export interface Destination {
  route?: string;
  channelId?: string;
}

/**
 * Splits a notification by the routes its alerts match: one notification per route (its own
 * incident and message), in the order of the routes, alerts no route takes last with no route.
 * An alert in `stuck` (held by an open incident its route no longer takes: the routes changed)
 * goes where that incident is, until it resolves. With no routes, or all alerts going the same
 * way, that is the notification itself.
 */
export function splitByRoute(n: Notification, routes: readonly RouteConfig[], stuck: ReadonlyMap<string, Destination> = new Map()): Notification[] {
  if (routes.length === 0 && stuck.size === 0) return [n];
  // Keyed by route name ('' for none): one group on one route is one incident.
  const parts = new Map<string, { dest: Destination; alerts: Alert[] }>();
  const add = (dest: Destination, alert: Alert) => {
    const key = dest.route ?? '';
    const part = parts.get(key);
    if (part) part.alerts.push(alert);
    else parts.set(key, { dest, alerts: [alert] });
  };
  for (const alert of n.alerts) {
    const held = stuck.get(alert.fingerprint);
    if (held) {
      add(held, alert);
      continue;
    }
    const matched = matchRoutes(routes, alert.labels);
    if (matched.length === 0) add({}, alert);
    for (const r of matched) add({ route: r.name, channelId: r.channelId }, alert);
  }
  const rank = (key: string) => (key === '' ? Infinity : routes.findIndex((r) => r.name === key) + 1 || routes.length + 1);
  const order = [...parts.keys()].sort((a, b) => rank(a) - rank(b));
  const only = parts.get(order[0]!)!;
  if (order.length === 1 && only.alerts.length === n.alerts.length) return [withRoute(n, only.dest)];
  return order.map((key, i) => part(n, parts.get(key)!.dest, parts.get(key)!.alerts, i === 0));
}

/** The whole notification, sent to one route (its webhook URL named it). */
export function toRoute(n: Notification, route: RouteConfig): Notification {
  return withRoute(n, { route: route.name, channelId: route.channelId });
}

/** The notification sent to a destination; with no route, as it came (discord.alertChannelId). */
function withRoute(n: Notification, dest: Destination): Notification {
  return dest.route === undefined ? n : { ...n, route: dest.route, ...(dest.channelId !== undefined ? { channelId: dest.channelId } : {}) };
}

/** The alerts of one route as a notification of their own: their status and common labels recomputed. */
function part(n: Notification, dest: Destination, alerts: Alert[], first: boolean): Notification {
  return {
    ...withRoute(n, dest),
    status: alerts.some((a) => a.status === 'firing') ? 'firing' : 'resolved',
    commonLabels: common(alerts.map((a) => a.labels)),
    commonAnnotations: common(alerts.map((a) => a.annotations)),
    // The alerts the sender left out cannot be routed: they are counted once, with the first part.
    truncatedAlerts: first ? n.truncatedAlerts : 0,
    alerts,
  };
}

/** The name=value pairs every map has. */
function common(maps: ReadonlyArray<Record<string, string>>): Record<string, string> {
  const [head, ...rest] = maps;
  if (!head) return {};
  return Object.fromEntries(Object.entries(head).filter(([k, v]) => rest.every((m) => m[k] === v)));
}
