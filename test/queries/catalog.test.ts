import { describe, expect, it } from 'vitest';
import {
  checkLogQuery,
  containerContextQuery,
  errorLogs,
  errorLogVolumeBySource,
  fillLabels,
  hostContextQuery,
  logVolumeByLevel,
  SteeringError,
  targetUp,
} from '../../src/queries/catalog.js';

/** A '…' string holding an escaped quote, then a placeholder in a later '…' string. */
const ESCAPED_QUOTE_THEN_PLACEHOLDER = `label_replace(up, "a", '\\'', "", "") and on() up{y='\${instance}'}`;

describe('catalog queries', () => {
  it.each([
    [undefined, undefined, 'up'],
    ['node', undefined, 'up{job="node"}'],
    [undefined, '10.0.0.5:9100', 'up{instance="10.0.0.5:9100"}'],
    ['node', '10.0.0.5:9100', 'up{job="node",instance="10.0.0.5:9100"}'],
    ['', '', 'up'],
    ['we"ird', undefined, 'up{job="we\\"ird"}'],
  ])('targetUp(%j, %j) is %s', (job, instance, want) => {
    expect(targetUp(job, instance)).toBe(want);
  });

  it('filters error logs of a stream with an escaped regex', () => {
    expect(errorLogs('{container_name="api"}', '(?i)(error|exception)')).toBe('{container_name="api"} |~ "(?i)(error|exception)"');
    expect(errorLogs('{host="h"}', 'a\\d"')).toBe('{host="h"} |~ "a\\\\d\\""');
  });

  it('counts log lines per level over a range', () => {
    expect(logVolumeByLevel('{job="docker"}', 600)).toBe('sum by (level) (count_over_time({job="docker"}[600s]))');
  });

  it.each([
    [['api', 'db'], 'sum by (container_name) (count_over_time({container_name=~"api|db"} |~ "(?i)error"[1800s]))'],
    // Each value literal: a dot, a bar or a quote in a value never widens the match or ends the string.
    [['web.1', 'a|b', 'q"x'], 'sum by (container_name) (count_over_time({container_name=~"web\\\\.1|a\\\\|b|q\\"x"} |~ "(?i)error"[1800s]))'],
  ])('counts the error lines of the sources %j in one query', (values, want) => {
    expect(errorLogVolumeBySource('container_name', values, '(?i)error', 1800)).toBe(want);
  });

  it('refuses a log volume query over no source or by an invalid label', () => {
    expect(() => errorLogVolumeBySource('container_name', [], '(?i)error', 60)).toThrow(/at least one log source/);
    expect(() => errorLogVolumeBySource('bad-label', ['a'], '(?i)error', 60)).toThrow(/label name/);
  });

  it.each([0, 1.5, -60])('refuses a range of %d seconds', (seconds) => {
    expect(() => logVolumeByLevel('{job="docker"}', seconds)).toThrow(/whole seconds/);
  });
});

describe('hostContextQuery and containerContextQuery', () => {
  it('tags each host measure so one query answers all four', () => {
    const q = hostContextQuery([{ name: 'instance', value: 'h:9100' }]);
    for (const m of ['cpu', 'memory', 'disk', 'load']) expect(q).toContain(`"measure", "${m}", "", ""`);
    expect(q).toContain('topk by (instance) (1, ');
  });

  it('ranks containers over the whole window and finds restarts and OOM kills', () => {
    const q = containerContextQuery([{ name: 'name', op: '!=', value: '' }], { cpu: 'c', memory: 'm' }, 600, 3);
    expect(q).toContain('topk(3, sum by (name) (rate(c{name!=""}[600s]))) * 100');
    expect(q).toContain('max_over_time(m{name!=""}[600s])');
    expect(q).toContain('changes(container_start_time_seconds{name!=""}[600s])');
    expect(q).toContain('increase(container_oom_events_total{name!=""}[600s])');
  });
});

describe('checkLogQuery', () => {
  it.each([
    ['{app="api"}', true],
    ['  {app="api", env=~"prod|stage"}  ', true],
    ['{app=`raw\\`}', true],
    ['{app="api"} |= "timeout" != "health"', false],
    ['{app="api"} | json | level="error" | line_format "{{.msg}}"', false],
    ['{app="api"} |~ "(?i)fail(ed)?"', false],
  ])('accepts %s (bare selector: %s)', (query, selectorOnly) => {
    expect(checkLogQuery(query)).toEqual({ selectorOnly });
  });

  it.each([
    ['', /got nothing/],
    ['app="api"', /starting with a stream selector/],
    ['{}', /at least one label matcher/],
    ['{app=api}', /label matchers like app="api"/],
    ['{app="api"', /label matchers like app="api"/],
    ['rate({app="api"}[5m])', /starting with a stream selector/],
    ['{app="api"} |= "x', /closed/],
    ['{app="api"} | json | count_over_time([5m])', /not a metric query/],
    ['{app="api"} or {app="db"}', /pipeline stages/],
    ['{app="api"} | (x', /balanced parentheses/],
    ['{app="api"} | x {a="b"}', /single stream selector/],
  ])('refuses %j, saying what it expected', (query, message) => {
    expect(() => checkLogQuery(query)).toThrow(SteeringError);
    expect(() => checkLogQuery(query)).toThrow(message);
  });

  it('refuses a query longer than 2000 characters', () => {
    expect(() => checkLogQuery(`{app="${'a'.repeat(2000)}"}`)).toThrow(/at most 2000 characters/);
  });
});

describe('fillLabels', () => {
  const labels = { instance: 'app-1:9100', job: 'node', evil: '"} or vector(1) #', dots: 'a.b*c', tick: 'x`y', quote: "it's", v: '1) or vector(1' };

  it.each([
    ['{host="${instance}"}', '{host="app-1:9100"}'],
    ['{job="${job}", host=~"${dots}"}', '{job="node", host=~"a\\\\.b\\\\*c"}'],
    ['{app="api"} |~ "${dots}"', '{app="api"} |~ "a\\\\.b\\\\*c"'],
    ['{app="api"} |= "${dots}"', '{app="api"} |= "a.b*c"'],
    ['up{instance="${evil}"}', 'up{instance="\\"} or vector(1) #"}'],
    ['up{instance=`${instance}`}', 'up{instance=`app-1:9100`}'],
    ["up{instance='${quote}'}", "up{instance='it\\'s'}"],
    ['up{job="literal $ sign and ${job}"}', 'up{job="literal $ sign and node"}'],
    ['sum(rate(x[5m]))', 'sum(rate(x[5m]))'],
    // An escaped quote does not end a '…' string: the placeholder after it is in the last string.
    [ESCAPED_QUOTE_THEN_PLACEHOLDER, `label_replace(up, "a", '\\'', "", "") and on() up{y='app-1:9100'}`],
    ['up{y=\'${quote}\', z="\\"\'"}', "up{y='it\\'s', z=\"\\\"'\"}"],
  ])('fills %s as %s', (query, want) => {
    expect(fillLabels(query, labels)).toBe(want);
  });

  it('keeps a label value from closing its string: the filled selector still has one matcher', () => {
    const filled = fillLabels('{host="${evil}"}', labels);
    expect(checkLogQuery(filled)).toEqual({ selectorOnly: true });
  });

  it.each([
    ['up{instance=${instance}}', /only inside quoted strings/],
    ['up{instance="${missing}"}', /no label "missing"/],
    ['up{instance="${not a name}"}', /expected a label name/],
    ['up{instance=`${tick}`}', /backtick/],
    ['up{instance="${instance}}', /closed/],
    // '\'' is one string holding a quote: the placeholder between two of them stands outside any string.
    ["'\\'' + ${v} + '\\''", /only inside quoted strings/],
    // A quote in a comment opens no string that runs over the line break to a placeholder.
    ["up # it's\n or vector(${v}) # '", /closed/],
  ])('refuses %j', (query, message) => {
    expect(() => fillLabels(query, labels)).toThrow(SteeringError);
    expect(() => fillLabels(query, labels)).toThrow(message);
  });
});
