// Which route a notification's alerts go to: by the routes' matchers, or by the webhook URL.
import { matchRoutes, type RouteConfig } from '../config/routes.js';
import type { Alert, Notification } from '../model.js';

/**
 * Splits a notification by the routes its alerts match: one notification per route (its own
 * incident and message), in the order of the routes, alerts no route takes last with no route.
 * With no routes, or all alerts going the same way, that is the notification itself.
 */
export function splitByRoute(n: Notification, routes: readonly RouteConfig[]): Notification[] {
  if (routes.length === 0) return [n];
  const parts = new Map<RouteConfig | undefined, Alert[]>();
  for (const alert of n.alerts) {
    const matched = matchRoutes(routes, alert.labels);
    for (const route of matched.length > 0 ? matched : [undefined]) {
      const list = parts.get(route);
      if (list) list.push(alert);
      else parts.set(route, [alert]);
    }
  }
  const order = [...routes, undefined].filter((route) => parts.has(route));
  if (order.length === 1 && parts.get(order[0])!.length === n.alerts.length) return [withRoute(n, order[0])];
  return order.map((route, i) => part(n, route, parts.get(route)!, i === 0));
}

/** The whole notification, sent to one route (its webhook URL named it). */
export function toRoute(n: Notification, route: RouteConfig): Notification {
  return withRoute(n, route);
}

/** The notification sent to the route's channel; with no route, as it came (discord.alertChannelId). */
function withRoute(n: Notification, route: RouteConfig | undefined): Notification {
  return route === undefined ? n : { ...n, route: route.name, channelId: route.channelId };
}

/** The alerts of one route as a notification of their own: their status and common labels recomputed. */
function part(n: Notification, route: RouteConfig | undefined, alerts: Alert[], first: boolean): Notification {
  return {
    ...withRoute(n, route),
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
