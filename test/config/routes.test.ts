import { describe, expect, it } from 'vitest';
import { parseConfig } from '../../src/config/load.js';
import { MINIMAL_CONFIG_YAML as BASE } from '../support/deps.js';
import { localeFor, localeInChannel, matchRoutes, threadsFor, threadsInChannel, type RouteConfig } from '../../src/config/routes.js';
import type { Config } from '../../src/config/schema.js';

/** The example route, as a user writes it. */
const DB_ROUTE = `
  - name: db
    matchers: ['team="db"', 'env=~"prod|staging"']
    channelId: "222222222222222222"
    mentions: { roles: ["333333333333333333"], users: [], severities: [critical] }
    escalation: { after: 10m, roles: ["444444444444444444"], repeat: 2 }
    threads: true
    continue: false
`;

function load(routes: string): Config {
  const r = parseConfig(`${BASE}routes:${routes}`, {});
  if (!r.ok) throw new Error(r.errors.join('\n'));
  return r.config;
}

function errorsOf(routes: string): string[] {
  const r = parseConfig(`${BASE}routes:${routes}`, {});
  if (r.ok) throw new Error('expected errors, config was valid');
  return r.errors;
}

describe('routes in the config', () => {
  it('reads the documented example: matchers compiled, durations in ms, defaults filled in', () => {
    const [db] = load(DB_ROUTE).routes;
    expect(db).toMatchObject({
      name: 'db',
      channelId: '222222222222222222',
      mentions: { roles: ['333333333333333333'], users: [], severities: ['critical'], onRepeat: false },
      escalation: { after: 600_000, roles: ['444444444444444444'], users: [], repeat: 2 },
      threads: true,
      continue: false,
    });
    expect(db!.matchers!.map(({ name, value, isRegex, isEqual }) => ({ name, value, isRegex, isEqual }))).toEqual([
      { name: 'team', value: 'db', isRegex: false, isEqual: true },
      { name: 'env', value: 'prod|staging', isRegex: true, isEqual: true },
    ]);
  });

  it('has no routes unless the config lists some', () => {
    const r = parseConfig(BASE, {});
    expect(r.ok && r.config.routes).toEqual([]);
  });

  it.each([
    [
      'a name that cannot be part of a URL',
      `\n  - { name: "DB alerts", channelId: "222222222222222222" }`,
      'routes.0.name: expected a route name of 1 to 32 lowercase letters',
    ],
    [
      'a matcher with a syntax error',
      `\n  - { name: db, matchers: ['team="db'], channelId: "222222222222222222" }`,
      'routes.0.matchers.0: expected a matcher like team="db", got "team=\\"db": unterminated value',
    ],
    ['a regex JavaScript cannot read', `\n  - { name: db, matchers: ['team=~"(db"'], channelId: "222222222222222222" }`, 'the regular expression is not valid'],
    ['an empty matchers list', `\n  - { name: db, matchers: [], channelId: "222222222222222222" }`, 'leave matchers out for a route chosen by its URL only'],
    ['a missing channel', `\n  - { name: db, matchers: ['team="db"'] }`, 'routes.0.channelId: required'],
    ['an id YAML reads as a number', `\n  - { name: db, channelId: 222222222222222222 }`, 'quote the id'],
    ['an unknown key', `\n  - { name: db, channelId: "222222222222222222", chanel: x }`, 'routes.0.chanel: unknown key'],
    [
      'mentions that name no one',
      `\n  - { name: db, channelId: "222222222222222222", mentions: { severities: [critical] } }`,
      'routes.0.mentions.roles: expected at least one role or user to mention',
    ],
    [
      'a severity Vigil does not know',
      `\n  - { name: db, channelId: "222222222222222222", mentions: { roles: ["333333333333333333"], severities: [sev1] } }`,
      'expected one of critical, warning, info, other',
    ],
    [
      'an escalation to no one',
      `\n  - { name: db, channelId: "222222222222222222", escalation: { after: 10m } }`,
      'routes.0.escalation.roles: expected at least one role or user to escalate to',
    ],
    [
      'an escalation sooner than a second',
      `\n  - { name: db, channelId: "222222222222222222", escalation: { after: 500ms, roles: ["444444444444444444"] } }`,
      'expected a duration between 1s and 7d',
    ],
    [
      'an escalation repeated more than 10 times',
      `\n  - { name: db, channelId: "222222222222222222", escalation: { after: 5m, roles: ["444444444444444444"], repeat: 11 } }`,
      'expected a whole number from 1 to 10, got 11',
    ],
    [
      'a name used twice',
      `\n  - { name: db, channelId: "222222222222222222" }\n  - { name: db, channelId: "322222222222222222" }`,
      'routes.1.name: route name "db" is already used by routes[0]',
    ],
  ])('refuses %s with a message naming the key', (_what, routes, message) => {
    expect(errorsOf(routes).join('\n')).toContain(message);
  });
});

describe('matchRoutes', () => {
  const routes = load(`
  - { name: db, matchers: ['team="db"', 'env=~"prod|staging"'], channelId: "222222222222222222", continue: true }
  - { name: prod, matchers: ['env="prod"'], channelId: "322222222222222222" }
  - { name: quiet, matchers: ['team!="db"', 'severity!~"crit.*"'], channelId: "422222222222222222" }
  - { name: by-url, channelId: "522222222222222222" }
`).routes;
  const names = (labels: Record<string, string>) => matchRoutes(routes, labels).map((r: RouteConfig) => r.name);

  it.each([
    ['a db alert in prod: db, and on to prod (continue)', { team: 'db', env: 'prod' }, ['db', 'prod']],
    ['a db alert in staging: db, then no other matches', { team: 'db', env: 'staging' }, ['db']],
    ['the regex is anchored: env "prod-eu" is not prod|staging', { team: 'db', env: 'prod-eu', severity: 'critical' }, []],
    ['a web alert in prod: prod wins and stops there', { team: 'web', env: 'prod' }, ['prod']],
    ['negative matchers: a missing label is the empty value', { alertname: 'X' }, ['quiet']],
    ['a route without matchers is chosen by URL only', { team: 'web', severity: 'critical' }, []],
  ])('%s', (_what, labels, expected) => {
    expect(names(labels)).toEqual(expected);
  });
});

describe('threads per route', () => {
  const config = load(`
  - { name: db, channelId: "222222222222222222", threads: false }
  - { name: web, channelId: "322222222222222222" }
`);

  it.each([
    ['a route that says threads: false', 'db', false],
    ['a route that says nothing: discord.threads', 'web', true],
    ['no route', undefined, true],
    ['a route the config no longer has', 'gone', true],
  ])('%s', (_what, route, expected) => {
    expect(threadsFor(config, route)).toBe(expected);
  });

  it("takes a channel's storm threads from the first route posting there", () => {
    expect(threadsInChannel(config, '222222222222222222')).toBe(false);
    expect(threadsInChannel(config, '223456789012345678')).toBe(true);
  });
});

describe('the language per route', () => {
  const config = load(`
  - { name: db, channelId: "222222222222222222", locale: ko }
  - { name: web, channelId: "322222222222222222" }
`);

  it.each([
    ['a route that says locale: ko', 'db', 'ko'],
    ['a route that says nothing: the top-level locale', 'web', 'en'],
    ['no route', undefined, 'en'],
    ['a route the config no longer has', 'gone', 'en'],
  ] as const)('%s', (_what, route, expected) => {
    expect(localeFor(config, route)).toBe(expected);
  });

  it("takes a channel's storm language from the first route posting there", () => {
    expect(localeInChannel(config, '222222222222222222')).toBe('ko');
    expect(localeInChannel({ ...config, locale: 'ko' }, '223456789012345678')).toBe('ko');
    expect(localeInChannel(config, '223456789012345678')).toBe('en');
  });
});
