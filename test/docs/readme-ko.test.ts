// README.ko.md is README.md in Korean: the same config keys, commands, environment variables and code
// blocks, or a Korean reader copies a key that no longer exists or never hears of a new one. Each
// extraction below is a function of the Markdown text, so a mutated README can be fed to it.
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, normalize } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';

const ROOT = fileURLToPath(new URL('../..', import.meta.url));
const EN = readFileSync(join(ROOT, 'README.md'), 'utf8');
const KO = readFileSync(join(ROOT, 'README.ko.md'), 'utf8');

interface Fence {
  lang: string;
  body: string;
}

/** The fenced code blocks (indented ones in list items too), dedented, and the text outside them. */
function split(markdown: string): { fences: Fence[]; prose: string } {
  const fences: Fence[] = [];
  const prose = markdown.replace(/^([ \t]*)```(\S*)[ \t]*\n([\s\S]*?)^\1```[ \t]*$/gm, (_all, indent: string, lang: string, body: string) => {
    fences.push({ lang, body: body.replace(new RegExp(`^${indent}`, 'gm'), '') });
    return '';
  });
  return { fences, prose };
}

/** Every inline code span outside fenced blocks, whitespace collapsed (a span may wrap a line). */
function inlineCode(markdown: string): string[] {
  return [...split(markdown).prose.matchAll(/`([^`]+)`/g)].map((m) => m[1]!.replace(/\s+/g, ' ').trim());
}

/** All code: the inline spans and the fenced blocks' bodies. */
function allCode(markdown: string): string[] {
  return [...inlineCode(markdown), ...split(markdown).fences.map((f) => f.body)];
}

/** The Markdown tables outside fenced blocks: header cells and body rows, cells trimmed (`\|` stays inside a cell). */
function tables(markdown: string): Array<{ header: string[]; rows: string[][] }> {
  const cells = (line: string) =>
    line
      .trim()
      .replace(/^\||\|$/g, '')
      .split(/(?<!\\)\|/)
      .map((c) => c.trim());
  const found: Array<{ header: string[]; rows: string[][] }> = [];
  let lines: string[] = [];
  const flush = () => {
    if (lines.length >= 2 && /^\|?\s*:?-{3,}/.test(lines[1]!.trim())) found.push({ header: cells(lines[0]!), rows: lines.slice(2).map(cells) });
    lines = [];
  };
  for (const line of split(markdown).prose.split('\n')) {
    if (line.trim().startsWith('|')) lines.push(line);
    else flush();
  }
  flush();
  return found;
}

/** The code spans of the first column of every table whose first header is one of `headers` (English and Korean). */
function firstColumn(markdown: string, headers: string[]): string[] {
  return tables(markdown)
    .filter((t) => headers.includes(t.header[0]!.toLowerCase()))
    .flatMap((t) => t.rows.flatMap((row) => [...(row[0] ?? '').matchAll(/`([^`]+)`/g)].map((m) => m[1]!)));
}

/** Every key path of a YAML value: `routes.mentions.roles`; a list is looked through to its items. */
function keyPaths(value: unknown, prefix = ''): string[] {
  if (Array.isArray(value)) return value.flatMap((item) => keyPaths(item, prefix));
  if (value === null || typeof value !== 'object') return [];
  return Object.entries(value).flatMap(([key, inner]) => {
    const path = prefix === '' ? key : `${prefix}.${key}`;
    return [path, ...keyPaths(inner, path)];
  });
}

const CONFIG_KEY = /^[a-z][A-Za-z0-9]*(?:\.(?:[a-z][A-Za-z0-9]*|\*))*$/;
/** A dotted name in prose that is a file, not a key: `loki.yaml`. */
const FILE_NAME = /\.(?:ya?ml|json|md|ts|js|db|png)$/;

/**
 * The config keys a README documents: the first column of its `key` tables (`delivery.reminderMinGap`,
 * `timezone`), every key path of its YAML blocks (`watchdog.heartbeat.maxSilence`), and the dotted keys
 * its prose names in code (`mentions.onRepeat`, `discord.threads: false`) under a name those two know.
 */
function configKeys(markdown: string): Set<string> {
  const keys = new Set(firstColumn(markdown, ['key', '키']).filter((k) => CONFIG_KEY.test(k)));
  const yamlNames = new Set<string>();
  for (const fence of split(markdown).fences.filter((f) => f.lang === 'yaml')) {
    for (const path of keyPaths(parseYaml(fence.body))) {
      keys.add(path);
      for (const name of path.split('.')) yamlNames.add(name);
    }
  }
  const roots = new Set([...keys].map((k) => k.split('.')[0]!).concat([...yamlNames]));
  for (const span of inlineCode(markdown)) {
    const key = /^([^\s:]+)(?::\s*\S*)?$/.exec(span)?.[1]; // `key` or `key: value`, not an error message quoting one
    if (key !== undefined && key.includes('.') && CONFIG_KEY.test(key) && !FILE_NAME.test(key) && roots.has(key.split('.')[0]!)) keys.add(key);
  }
  return keys;
}

/** A slash command as written (`/silence create matchers:… [comment]`): its path and option names. */
function slashCommand(written: string): { path: string; options: string[] } {
  const words = written.split(/\s+/);
  let end = 1;
  while (end < words.length && /^[a-z]+$/.test(words[end]!)) end += 1;
  const rest = words.slice(end).join(' ');
  const optional = [...rest.matchAll(/\[([a-z_]+)(?::[^\]]*)?\]/g)].map((m) => m[1]!);
  const required = [...rest.replace(/\[[^\]]*\]/g, '').matchAll(/(?:^|\s)([a-z_]+):/g)].map((m) => m[1]!);
  return { path: words.slice(0, end).join(' '), options: [...required, ...optional] };
}

/**
 * The commands a README names: each slash command, subcommand and option of its `command` table
 * (`/silence create`, `/top resource`) and every mention of them in code; each CLI subcommand
 * (`vigil check-config`, `dist/cli.js register-commands`), CLI option (`--online`) and npm script.
 */
function commands(markdown: string): Set<string> {
  const found = new Set<string>();
  const table = firstColumn(markdown, ['command', '명령']).filter((c) => c.startsWith('/'));
  for (const written of table) {
    const { path, options } = slashCommand(written);
    found.add(path);
    for (const option of options) found.add(`${path} ${option}`);
  }
  const names = new Set(table.map((c) => c.split(/\s+/)[0]!));
  for (const span of inlineCode(markdown)) if (names.has(span.split(/\s+/)[0]!)) found.add(slashCommand(span).path);
  for (const code of allCode(markdown)) {
    for (const m of code.matchAll(/(?<![\w./-])(?<!exec )(?:vigil|dist\/cli\.js)[ \t]+([a-z][a-z-]*[a-z])\b/g)) found.add(`vigil ${m[1]}`);
    for (const m of code.matchAll(/(?<![\w-])--[a-z][a-z0-9-]*(?![\w.-])/g)) found.add(m[0]);
    for (const m of code.matchAll(/\bnpm run ([a-z][a-z:-]*[a-z])/g)) found.add(`npm run ${m[1]}`);
  }
  return found;
}

/** The environment variables a README's code names: UPPER_CASE words with an underscore (`DISCORD_TOKEN`). */
function environmentVariables(markdown: string): Set<string> {
  return new Set(allCode(markdown).flatMap((code) => code.match(/\b[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+\b/g) ?? []));
}

/** The fenced code blocks as a reader copies them; YAML without its comments (a translation may change those). */
function codeBlocks(markdown: string): Set<string> {
  return new Set(
    split(markdown).fences.map((f) => {
      const body = f.lang === 'yaml' ? f.body.replace(/(^|\s)#.*$/gm, '') : f.body;
      return `\`\`\`${f.lang}\n${body.replace(/[ \t]+$/gm, '')}`;
    }),
  );
}

const EXTRACT = {
  'config keys': configKeys,
  'slash commands, CLI commands and options': commands,
  'environment variables': environmentVariables,
  'code blocks': codeBlocks,
} as const;
type Category = keyof typeof EXTRACT;
const CATEGORIES = Object.keys(EXTRACT) as Category[];

/** What one README documents and the other does not, one line each. */
function mismatches(category: Category, reference: string, translation: string, names = ['README.md', 'README.ko.md']): string[] {
  const a = EXTRACT[category](reference);
  const b = EXTRACT[category](translation);
  return [
    ...[...a].filter((x) => !b.has(x)).map((x) => `in ${names[0]} only: ${x}`),
    ...[...b].filter((x) => !a.has(x)).map((x) => `in ${names[1]} only: ${x}`),
  ];
}

/** GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens (Hangul kept). */
function anchor(heading: string): string {
  return heading
    .replace(/`/g, '')
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, '')
    .replace(/ /g, '-');
}

function anchors(markdown: string): Set<string> {
  return new Set([...split(markdown).prose.matchAll(/^#{1,6} (.+)$/gm)].map((m) => anchor(m[1]!.trim())));
}

/** The relative links of README.ko.md: `[text](target#anchor)`, outside code. */
function links(markdown: string): Array<{ file: string; hash: string }> {
  return [
    ...split(markdown)
      .prose.replace(/`[^`]*`/g, '')
      .matchAll(/\]\(([^)\s]+)\)/g),
  ]
    .map((m) => m[1]!)
    .filter((target) => !/^[a-z]+:/.test(target))
    .map((target) => ({ file: target.split('#')[0]!, hash: target.split('#')[1] ?? '' }));
}

describe('README.ko.md keeps step with README.md', () => {
  it.each(CATEGORIES)('documents the same %s', (category) => {
    expect(mismatches(category, EN, KO)).toEqual([]);
  });

  it('is in Korean', () => {
    const hangul = split(KO).prose.match(/[\uac00-\ud7a3]/g) ?? [];
    expect(hangul.length).toBeGreaterThan(5000);
  });

  it('points every in-page link at one of its headings', () => {
    const own = anchors(KO);
    const broken = links(KO)
      .filter((l) => l.file === '' && !own.has(decodeURIComponent(l.hash)))
      .map((l) => `#${l.hash}`);
    expect(broken).toEqual([]);
  });

  it('points every link to another file at a file in the repository (and a heading of README.md)', () => {
    const broken = links(KO)
      .filter((l) => l.file !== '')
      .filter((l) => !existsSync(join(ROOT, normalize(l.file))) || (l.file === 'README.md' && l.hash !== '' && !anchors(EN).has(l.hash)))
      .map((l) => `${l.file}#${l.hash}`);
    expect(broken).toEqual([]);
  });

  it('is linked from README.md', () => {
    expect(EN).toContain('(README.ko.md)');
  });
});

describe('what the parity check extracts', () => {
  it.each([
    ['config keys', 'delivery.reminderMinGap'],
    ['config keys', 'charts.width'],
    ['config keys', 'timezone'],
    ['config keys', 'watchdog.*'],
    ['config keys', 'routes.escalation.after'],
    ['config keys', 'watchdog.heartbeat.maxSilence'],
    ['config keys', 'mentions.onRepeat'],
    ['slash commands, CLI commands and options', '/health'],
    ['slash commands, CLI commands and options', '/health job'],
    ['slash commands, CLI commands and options', '/top resource'],
    ['slash commands, CLI commands and options', '/silence create'],
    ['slash commands, CLI commands and options', '/silence create matchers'],
    ['slash commands, CLI commands and options', '/silence expire id'],
    ['slash commands, CLI commands and options', '/query range'],
    ['slash commands, CLI commands and options', 'vigil serve'],
    ['slash commands, CLI commands and options', 'vigil check-config'],
    ['slash commands, CLI commands and options', 'vigil register-commands'],
    ['slash commands, CLI commands and options', 'vigil test-alert'],
    ['slash commands, CLI commands and options', '--online'],
    ['slash commands, CLI commands and options', 'npm run lint'],
    ['environment variables', 'DISCORD_TOKEN'],
    ['environment variables', 'DISCORD_ALERT_CHANNEL_ID'],
    ['environment variables', 'VIGIL_WEBHOOK_TOKEN'],
    ['environment variables', 'VIGIL_CONFIG'],
  ] as const)("finds in README.md's %s: %s", (category, item) => {
    expect(EXTRACT[category](EN).has(item)).toBe(true);
  });

  it.each([
    ['slash commands, CLI commands and options', '/readyz', 'an HTTP path is not a slash command'],
    ['slash commands, CLI commands and options', '/interactions', 'an HTTP path is not a slash command'],
    ['slash commands, CLI commands and options', 'vigil node', '`exec vigil node` names the compose service'],
    ['slash commands, CLI commands and options', '--web', "Prometheus' --web.enable-admin-api is not Vigil's"],
    ['config keys', 'loki.yaml', 'a file name is not a config key'],
    ['environment variables', 'POST', 'an HTTP method is not an environment variable'],
  ] as const)('leaves out of the %s: %s (%s)', (category, item, _why) => {
    expect(EXTRACT[category](EN).has(item)).toBe(false);
  });
});

describe('the parity check reports what one README lacks', () => {
  /** The translation with one thing taken out, and what the check must say about it. */
  it.each([
    ['config keys', 'a config table row', (md: string) => md.replace(/^\| `delivery\.reminderMinGap` .*\n/m, ''), ['delivery.reminderMinGap']],
    ['config keys', 'a YAML line', (md: string) => md.replace(/^ {4}maxSilence: .*\n/m, ''), ['watchdog.heartbeat.maxSilence']],
    [
      'slash commands, CLI commands and options',
      'a slash command row',
      (md: string) => md.replace(/^\| `\/query promql:.*\n/m, ''),
      ['/query', '/query promql', '/query range'],
    ],
    ['slash commands, CLI commands and options', 'a CLI option', (md: string) => md.replaceAll('--online', 'online'), ['--online']],
    ['environment variables', 'an environment variable', (md: string) => md.replaceAll('`VIGIL_DB`', 'the store variable'), ['VIGIL_DB']],
  ] as const)('%s: with %s missing from the translation', (category, _what, cut, missing) => {
    const mutated = cut(KO);
    expect(mutated).not.toBe(KO);
    expect(mismatches(category, KO, mutated)).toEqual(missing.map((item) => `in README.md only: ${item}`));
  });

  it('code blocks: with a line of a code block changed in the translation', () => {
    const mutated = KO.replace('npx vigil test-alert\n```', 'npx vigil test-alert --resolve\n```');
    expect(mutated).not.toBe(KO);
    expect(mismatches('code blocks', KO, mutated)).toEqual([
      'in README.md only: ```sh\nnpx vigil test-alert\n',
      'in README.ko.md only: ```sh\nnpx vigil test-alert --resolve\n',
    ]);
  });

  it('config keys: with a key only the translation documents', () => {
    const added = KO.replace(/^(\| `log\.level` .*\n)/m, '$1| `log.format` | `json` | 로그 형식 |\n');
    expect(mismatches('config keys', KO, added)).toEqual(['in README.ko.md only: log.format']);
  });

  it('config keys: with a README from a file that lacks one', () => {
    // As a reader would see it: the whole check run on a copy of README.ko.md written to disk without the `locale` row.
    const dir = mkdtempSync(join(tmpdir(), 'vigil-readme-ko-'));
    try {
      const copy = join(dir, 'README.ko.md');
      writeFileSync(copy, KO.replace(/^\| `locale` .*\n/m, ''));
      expect(mismatches('config keys', KO, readFileSync(copy, 'utf8'))).toEqual(['in README.md only: locale']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
